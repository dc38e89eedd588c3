"""The audit trail: one event per change, whatever the path; append-only for everyone."""

from __future__ import annotations

import psycopg
import pytest

from pyproj_rpc.identity import Identity, postgrest_request
from tests.support import World, call, refused


def test_an_event_records_who_what_why_and_in_which_transaction(world: World) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    txid = world.execute("select pg_current_xact_id()::text").fetchone()[0]
    call(world.conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="leave")
    [event] = world.events(mentor)
    assert event["sequence"] == 1
    assert (event["from_status"], event["to_status"]) == ("active", "paused")
    assert event["reason"] == "leave"
    assert (event["actor_user_id"], event["actor_kind"]) == (coordinator.user_id, "coordinator")
    assert event["database_role"] == "authenticated"
    assert (event["forced"], event["findings"]) == (False, [])
    assert str(event["transaction_id"]) == txid
    assert event["pause_id"] == world.pauses(mentor)[0]["id"]


def test_the_scheduler_is_recorded_as_the_system(world: World) -> None:
    mentor = world.organization().mentor(certified=False)
    call(world.conn, Identity.service(), "auto_expire_for_certification", mentor_id=mentor.id)
    [event] = world.events(mentor)
    assert (event["actor_user_id"], event["actor_kind"]) == (None, "system")
    assert event["database_role"] == "service_role"


def test_sequences_count_each_mentors_changes_without_gaps(world: World) -> None:
    org = world.organization()
    mentor = org.mentor()
    for _ in range(3):
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="r")
        call(world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id)
    assert [e["sequence"] for e in world.events(mentor)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "statement",
    [
        "update mentoring.status_events set reason = 'rewritten'",
        "delete from mentoring.status_events",
        "truncate mentoring.status_events cascade",
    ],
    ids=["update", "delete", "truncate"],
)
def test_even_the_owner_cannot_rewrite_the_audit_trail(world: World, statement: str) -> None:
    world.organization().mentor(status="paused")
    with refused("forbidden") as errors:
        world.execute(statement)
    assert "append-only" in errors[0].message


@pytest.mark.parametrize("identity_kind", ["admin", "service"])
@pytest.mark.parametrize(
    "statement",
    [
        "update mentoring.status_events set reason = 'rewritten'",
        "delete from mentoring.status_events",
        "truncate mentoring.status_events",
        "insert into mentoring.status_events (mentor_id, sequence, from_status, to_status,"
        " actor_kind, database_role) select id, 99, 'active', 'paused', 'system', 'x'"
        " from mentoring.mentors",
    ],
    ids=["update", "delete", "truncate", "insert"],
)
def test_no_application_role_may_write_the_audit_trail(
    world: World, identity_kind: str, statement: str
) -> None:
    org = world.organization()
    org.mentor(status="paused")
    identity = org.admin if identity_kind == "admin" else Identity.service()
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        postgrest_request(world.conn, identity) as cur,
    ):
        cur.execute(statement)
