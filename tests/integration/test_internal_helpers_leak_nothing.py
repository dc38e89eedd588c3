"""What a signed-in user reaches beyond the api reveals and writes nothing of its own.

Results carry per-mentor sequences, not database-wide counters; internal functions that
``authenticated`` must execute answer only about rows the caller may see, and write only
what the api function would have written itself; the one-sweeper lock is the service's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from pyproj_rpc import scheduler
from pyproj_rpc.api_errors import InvalidInput
from pyproj_rpc.identity import Identity, postgrest_request
from tests.conftest import Database
from tests.support import World, call, refused

EVENT_FIELDS = {
    "mentor_id",
    "sequence",
    "from_status",
    "to_status",
    "reason",
    "actor_user_id",
    "actor_kind",
    "database_role",
    "forced",
    "findings",
    "idempotency_key",
    "pause_id",
    "occurred_at",
}


def test_a_mentor_sees_sequences_not_how_many_changes_other_organizations_made(
    world: World,
) -> None:
    mine = world.organization("Mine").mentor()
    theirs = world.organization("Theirs").mentor()
    paused = call(world.conn, mine.identity, "activate_pause", mentor_id=mine.id, reason="x")
    call(world.conn, theirs.identity, "activate_pause", mentor_id=theirs.id, reason="y")
    call(world.conn, theirs.identity, "lift_pause", mentor_id=theirs.id)
    lifted = call(world.conn, mine.identity, "lift_pause", mentor_id=mine.id)
    history = call(world.conn, mine.identity, "get_pause_history", mentor_id=mine.id)
    shown = [paused["event"], lifted["event"], *history["events"]]
    assert [set(event) for event in shown] == [EVENT_FIELDS] * 4
    assert [event["sequence"] for event in shown] == [1, 2, 2, 1]


def test_a_replayed_result_shows_no_database_wide_counter_either(world: World) -> None:
    mentor = world.organization().mentor()
    key = uuid.uuid4()
    first = call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    again = call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    assert again == first
    assert set(again["event"]) == EVENT_FIELDS


def organization_today(conn: psycopg.Connection[Any], identity: Identity, org: Any) -> Any:
    with postgrest_request(conn, identity, method="GET") as cur:
        row = cur.execute("select mentoring.organization_today(%s) as today", (org,)).fetchone()
    assert row is not None
    return row["today"]


def test_organization_today_does_not_tell_a_user_which_organization_ids_exist(
    world: World,
) -> None:
    mine, other = world.organization("Mine"), world.organization("Other")
    mentor = mine.mentor()
    assert organization_today(world.conn, mentor.identity, mine.id) == world.today(mine.id)
    assert organization_today(world.conn, mentor.identity, other.id) is None
    assert organization_today(world.conn, mentor.identity, uuid.uuid4()) is None


def claim(cur: psycopg.Cursor[Any], key: uuid.UUID, arguments: dict[str, Any]) -> Any:
    return cur.execute(
        "select mentoring.idempotent_replay('activate_pause', %s, %s::jsonb) as replayed",
        (key, json.dumps(arguments)),
    ).fetchone()


def claim_then_change(
    conn: psycopg.Connection[Any],
    identity: Identity,
    key: uuid.UUID,
    arguments: dict[str, Any],
    change: tuple[Any, dict[str, Any]] | None = None,
) -> None:
    """In one committed request: claim ``key``, then change a mentor's status directly."""
    with postgrest_request(conn, identity) as cur:
        claim(cur, key, arguments)
        if change is not None:
            mentor_id, request = change
            cur.execute(
                "select set_config('mentoring.transition_request', %s, true)",
                (json.dumps(request),),
            )
            cur.execute(
                "update mentoring.mentors set status = 'paused' where id = %s", (mentor_id,)
            )


def test_a_user_cannot_store_rows_through_the_idempotency_helper_without_a_transition(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        mentor = World(conn).organization().mentor()
        conn.commit()
        junk = {"mentor_id": str(mentor.id), "reason": "x" * 2_000_000}
        with (
            pytest.raises(psycopg.Error) as stored,
            postgrest_request(conn, mentor.identity) as cur,
        ):
            claim(cur, uuid.uuid4(), junk)
        assert stored.value.sqlstate == "PGRST"
        conn.rollback()
        with pytest.raises(psycopg.Error) as kept:  # refused at commit
            claim_then_change(conn, mentor.identity, uuid.uuid4(), {"mentor_id": str(mentor.id)})
        assert "only with the result of its own transition" in str(kept.value)
        conn.rollback()
        assert conn.execute("select count(*) from mentoring.idempotency_keys").fetchone() == (0,)


def test_a_user_cannot_plant_a_result_that_the_api_then_replays(isolated_db: Database) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        target = org.mentor(coordinators=(coordinator,))
        decoy = org.mentor(coordinators=(coordinator,))
        conn.commit()
        key = uuid.uuid4()
        arguments = {
            "mentor_id": str(target.id),
            "reason": "x",
            "expected_return_date": None,
            "force": False,
        }

        # A fake result straight into the key: there is no function for it any more.
        with pytest.raises(psycopg.Error), postgrest_request(conn, coordinator) as cur:
            cur.execute(
                'select mentoring.idempotent_record(%s, \'{"status": "planted"}\'::jsonb)',
                (key,),
            )
        conn.rollback()

        # The key claimed for the target, then spent on another mentor's real transition.
        request = {**arguments, "mentor_id": str(decoy.id), "idempotency_key": str(key)}
        with pytest.raises(psycopg.Error) as spent:
            claim_then_change(conn, coordinator, key, arguments, (decoy.id, request))
        assert "only with the result of its own transition" in str(spent.value)
        conn.rollback()

        result = call(
            conn,
            coordinator,
            "activate_pause",
            mentor_id=target.id,
            reason="x",
            idempotency_key=key,
        )
        conn.commit()
        assert (result["mentor_id"], result["status"], result["changed"]) == (
            str(target.id),
            "paused",
            True,
        )
        assert world.status(decoy) == "active"


def test_a_key_claimed_directly_and_spent_on_the_same_transition_is_kept(
    isolated_db: Database,
) -> None:
    """The direct path equals the api's: the same claim and the same request."""
    with isolated_db.connect() as conn:
        mentor = World(conn).organization().mentor()
        conn.commit()
        key = uuid.uuid4()
        arguments = {
            "mentor_id": str(mentor.id),
            "reason": "direct",
            "expected_return_date": None,
            "force": False,
        }
        request = {**arguments, "idempotency_key": str(key)}
        claim_then_change(conn, mentor.identity, key, arguments, (mentor.id, request))
        replayed = call(
            conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="direct",
            idempotency_key=key,
        )
        assert (replayed["status"], replayed["event"]["sequence"]) == ("paused", 1)


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        ("remind_overdue_pauses", {"mentor_id": "x"}),
        ("activate_pause", {"mentor_id": "x", "note": "not an argument"}),
        ("activate_pause", {"reason": "no mentor"}),
        ("activate_pause", ["not", "an", "object"]),
    ],
)
def test_the_idempotency_helper_takes_only_the_api_operations_and_their_arguments(
    world: World, operation: str, arguments: Any
) -> None:
    mentor = world.organization().mentor()
    with refused("invalid_input"), postgrest_request(world.conn, mentor.identity) as cur:
        cur.execute(
            "select mentoring.idempotent_replay(%s, gen_random_uuid(), %s::jsonb)",
            (operation, json.dumps(arguments)),
        )


def test_an_idempotent_pause_with_a_padded_reason_too_large_to_keep_is_refused(
    world: World,
) -> None:
    mentor = world.organization().mentor()
    with pytest.raises(InvalidInput) as refused_call:
        call(
            world.conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="x" + " " * 10_000,
            idempotency_key=uuid.uuid4(),
        )
    assert refused_call.value.details["field"] == "reason"
    assert world.status(mentor) == "active"


# -- the one-sweeper lock ------------------------------------------------------------------


def lapsed_roster(database: Database) -> list[Any]:
    with database.connect() as conn:
        org = World(conn).organization()
        mentors = [org.mentor(certified=False) for _ in range(2)]
        conn.commit()
    return mentors


@pytest.mark.parametrize("role", ["anon", "authenticated", "mentoring_relay"])
def test_no_other_role_can_stop_the_expiry_sweep(isolated_db: Database, role: str) -> None:
    lapsed = lapsed_roster(isolated_db)
    with isolated_db.connect(autocommit=True) as other, isolated_db.connect() as sweeper:
        other.execute(f"set role {role}")
        other.execute("select pg_advisory_lock(hashtext('pyproj-rpc sweeps'))")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other.execute("select mentoring.take_sweeper_lease(gen_random_uuid(), '1 day')")
        report = scheduler.sweep_once(sweeper)
    assert (report.ran, report.expired) == (True, len(lapsed))


def take(conn: psycopg.Connection[Any], holder: uuid.UUID, lease: str) -> bool:
    with postgrest_request(conn, Identity.service()) as cur:
        row = cur.execute(
            "select mentoring.take_sweeper_lease(%s, %s::interval) as taken", (holder, lease)
        ).fetchone()
    assert row is not None
    taken: bool = row["taken"]
    return taken


def test_the_sweepers_lease_is_one_holders_until_released_or_expired(world: World) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    assert take(world.conn, first, "1 hour")
    assert not take(world.conn, second, "1 hour")
    assert take(world.conn, first, "1 hour")  # renewed by its holder
    with postgrest_request(world.conn, Identity.service()) as cur:
        assert cur.execute(
            "select mentoring.release_sweeper_lease(%s) as r", (second,)
        ).fetchone() == {"r": False}
        assert cur.execute(
            "select mentoring.release_sweeper_lease(%s) as r", (first,)
        ).fetchone() == {"r": True}
    assert take(world.conn, second, "1 microsecond")
    world.execute("select pg_sleep(0.01)")
    assert take(world.conn, first, "1 hour")  # the other's lease ran out


@pytest.mark.parametrize("lease", ["0 seconds", "-1 hour", "2 days"])
def test_a_lease_of_no_time_or_over_a_day_is_refused(world: World, lease: str) -> None:
    with refused("invalid_input"):
        take(world.conn, uuid.uuid4(), lease)
