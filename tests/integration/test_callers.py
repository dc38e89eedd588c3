"""Who counts as whom: roles never make someone the system by accident."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from pyproj_rpc.api_errors import Forbidden
from pyproj_rpc.identity import Identity
from tests.support import World, call, refused


def caller_key_as(
    db: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None = None
) -> Any:
    with db.transaction(force_rollback=True):
        db.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims or {}),))
        db.execute("select set_config('role', %s, true)", (role,))
        return db.execute("select mentoring.caller_key()").fetchone()


def test_a_custom_role_that_inherits_authenticated_acts_as_its_user(
    world: World,
) -> None:
    world.execute("create role premium_member nologin inherit")
    world.execute("grant authenticated to premium_member")
    mentor = world.organization().mentor()
    claims = {"sub": str(mentor.user_id), "role": "premium_member"}
    assert caller_key_as(world.conn, "premium_member", claims) == (f"user:{mentor.user_id}",)


@pytest.mark.parametrize("role", ["anon", "unrelated", "authenticator"])
def test_a_role_that_is_neither_user_nor_system_is_unauthenticated(world: World, role: str) -> None:
    # A careless grant lets the role reach the code: it still must not count as the system.
    world.execute("create role unrelated nologin")
    world.execute("create schema probe")
    world.execute(
        "create function probe.caller() returns text language sql security definer"
        " set search_path = '' as 'select mentoring.caller_key()'"
    )
    world.execute(f"grant usage on schema probe to {role}")
    world.execute(f"grant execute on function probe.caller() to {role}")
    claims = {"sub": "00000000-0000-0000-0000-000000000001", "role": role}
    with refused("unauthenticated"), world.conn.transaction():
        world.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        world.execute("select set_config('role', %s, true)", (role,))
        world.execute("select probe.caller()")


def test_service_role_and_the_owner_are_the_system_by_name(world: World) -> None:
    assert caller_key_as(world.conn, "service_role") == ("system:service_role",)
    assert world.execute("select mentoring.caller_key()").fetchone() == ("system:postgres",)


def test_an_admin_acting_on_their_own_mentor_record_is_the_mentor(world: World) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    world.seed.staff(org.id, mentor.user_id, "admin")  # the mentor is also an admin
    status = call(world.conn, mentor.identity, "get_current_status", mentor_id=mentor.id)
    assert status["caller_kind"] == "mentor"
    call(world.conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="forced break")
    with pytest.raises(Forbidden, match="pause they started themselves"):
        call(world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id)


def test_a_mentor_who_is_their_own_coordinator_still_cannot_force(world: World) -> None:
    org = world.organization()
    mentor = org.mentor()
    world.seed.staff(org.id, mentor.user_id, "coordinator")
    world.assign(mentor, Identity.user(mentor.user_id))
    with pytest.raises(Forbidden, match="only coordinators and admins can force"):
        call(
            world.conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="x",
            force=True,
        )
