"""Coordinator notifications: outbox rows in the same transaction, one wake-up on commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from pyproj_rpc.identity import Identity
from tests.conftest import Database
from tests.support import World, call

CHANNEL = "mentoring_outbox"


def test_every_assigned_coordinator_but_the_actor_is_notified_with_the_full_payload(
    world: World,
) -> None:
    org = world.organization()
    acting, first, second = org.coordinator(), org.coordinator(), org.coordinator()
    mentor = org.mentor(coordinators=(acting, first, second), name="Ada")
    return_date = world.today(org.id) + timedelta(days=14)
    result = call(
        world.conn,
        acting,
        "activate_pause",
        mentor_id=mentor.id,
        reason="exams",
        expected_return_date=return_date,
    )
    rows = world.outbox(world.event_id(result))
    assert {row["recipient_id"] for row in rows} == {first.user_id, second.user_id}
    payload = rows[0]["payload"]
    assert payload == {
        "event_id": world.event_id(result),
        "kind": "status_changed",
        "sequence": 1,
        "hash": world.events(mentor)[0]["hash"].hex(),
        "mentor": {"id": str(mentor.id), "display_name": "Ada", "organization_id": str(org.id)},
        "recipient_id": str(rows[0]["recipient_id"]),
        "from_status": "active",
        "to_status": "paused",
        "reason": "exams",
        "actor": {"user_id": str(acting.user_id), "kind": "coordinator"},
        "occurred_at": result["event"]["occurred_at"],
        "expected_return_date": return_date.isoformat(),
        "forced": False,
        "findings": [],
    }


def test_without_an_assigned_coordinator_the_admins_are_notified(world: World) -> None:
    org = world.organization()
    other_admin = org.second_admin()
    mentor = org.mentor()
    result = call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    recipients = {row["recipient_id"] for row in world.outbox(world.event_id(result))}
    assert recipients == {org.admin.user_id, other_admin.user_id}


def test_an_acting_admin_is_not_notified_of_their_own_change(world: World) -> None:
    org = world.organization()
    other_admin = org.second_admin()
    mentor = org.mentor()
    result = call(world.conn, org.admin, "activate_pause", mentor_id=mentor.id, reason="x")
    recipients = {row["recipient_id"] for row in world.outbox(world.event_id(result))}
    assert recipients == {other_admin.user_id}


def test_admins_of_other_organizations_hear_nothing(world: World) -> None:
    org, elsewhere = world.organization(), world.organization()
    mentor = org.mentor()
    result = call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    recipients = {row["recipient_id"] for row in world.outbox(world.event_id(result))}
    assert elsewhere.admin.user_id not in recipients


def listener(database: Database) -> psycopg.Connection[Any]:
    conn = database.connect(autocommit=True)
    conn.execute(f"listen {CHANNEL}")
    return conn


def notifications(conn: psycopg.Connection[Any], seconds: float) -> list[psycopg.Notify]:
    return list(conn.notifies(timeout=seconds))


def test_a_committed_change_wakes_a_listener_with_an_empty_payload(
    isolated_db: Database,
) -> None:
    with listener(isolated_db) as listening, isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        mentor = org.mentor()
        conn.commit()
        call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
        [notify] = list(listening.notifies(timeout=5, stop_after=1))
        assert (notify.channel, notify.payload) == (CHANNEL, "")


def test_a_rolled_back_change_neither_notifies_nor_leaves_outbox_rows(
    isolated_db: Database,
) -> None:
    with listener(isolated_db) as listening, isolated_db.connect() as conn:
        world = World(conn)
        mentor = world.organization().mentor()
        conn.commit()
        with conn.transaction(force_rollback=True):
            call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
        assert notifications(listening, 1.0) == []
        assert conn.execute("select count(*) from mentoring.outbox").fetchone() == (0,)
        assert world.status(mentor) == "active"


def test_many_changes_in_one_transaction_wake_the_listener_once(isolated_db: Database) -> None:
    with listener(isolated_db) as listening, isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        mentors = [org.mentor(certified=False) for _ in range(3)]
        conn.commit()
        with conn.transaction():
            for mentor in mentors:
                call(conn, Identity.service(), "auto_expire_for_certification", mentor_id=mentor.id)
        assert conn.execute("select count(*) from mentoring.outbox").fetchone() == (3,)
        assert len(notifications(listening, 1.0)) == 1


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_outbox_is_not_readable_by_clients(world: World, role: str) -> None:
    privilege = world.execute(
        "select has_table_privilege(%s, 'mentoring.outbox', 'select')", (role,)
    ).fetchone()
    assert privilege == (False,)
