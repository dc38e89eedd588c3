"""The relay's interface to the outbox: claim for a lease, then report each outcome."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from pyproj_rpc.identity import Identity, postgrest_request
from tests.conftest import Database
from tests.support import World, call


def notifications(world: World, count: int) -> list[int]:
    """Make ``count`` outbox rows (one pause each, one coordinator); return their ids."""
    org = world.organization()
    coordinator = org.coordinator()
    for _ in range(count):
        mentor = org.mentor(coordinators=(coordinator,))
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    return [row[0] for row in world.execute("select id from mentoring.outbox order by id")]


def claim(conn: psycopg.Connection[Any], batch: int = 10, lease: str = "30 seconds") -> list[Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select * from mentoring.claim_outbox(%s, %s::interval)", (batch, lease)
        ).fetchall()


def row(world: World, outbox_id: int) -> dict[str, Any]:
    with world.conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute("select * from mentoring.outbox where id = %s", (outbox_id,)).fetchone()
    assert found is not None
    return found


def test_a_claim_takes_due_rows_oldest_first_under_a_lease_and_counts_an_attempt(
    world: World,
) -> None:
    ids = notifications(world, 3)
    claimed = claim(world.conn, batch=2)
    assert [r["id"] for r in claimed] == ids[:2]
    assert len({r["claim_id"] for r in claimed}) == 1
    assert all(r["attempts"] == 1 and r["leased_until"] is not None for r in claimed)


def test_a_claim_takes_at_most_its_batch_whatever_plan_its_update_gets(world: World) -> None:
    notifications(world, 3)
    # A plan that rescans the rows to claim for each row it updates (a nested loop semi
    # join): each rescan took the next rows past the ones already updated.
    for setting in ("enable_hashjoin", "enable_material", "enable_hashagg", "enable_sort"):
        world.execute(f"set local {setting} = off")
    world.execute("discard plans")  # the function's cached plan, made with the defaults
    assert len(claim(world.conn, batch=2)) == 2


def test_a_leased_row_is_not_claimed_again_until_its_lease_runs_out(world: World) -> None:
    [only] = notifications(world, 1)
    assert len(claim(world.conn)) == 1
    assert claim(world.conn) == []
    world.execute(
        "update mentoring.outbox set leased_until = now() - interval '1 second' where id = %s",
        (only,),
    )
    [again] = claim(world.conn)
    assert (again["id"], again["attempts"]) == (only, 2)


def test_delivered_rows_are_final(world: World) -> None:
    [only] = notifications(world, 1)
    claim(world.conn)
    assert world.execute("select mentoring.outbox_delivered(%s)", ([only],)).fetchone() == (1,)
    delivered = row(world, only)
    assert delivered["delivered_at"] is not None
    assert delivered["claim_id"] is None
    assert claim(world.conn) == []


def test_a_failure_schedules_a_retry_or_dead_letters(world: World) -> None:
    first, second = notifications(world, 2)
    claims = {r["id"]: r["claim_id"] for r in claim(world.conn)}
    later = world.execute("select now() + interval '1 hour'").fetchone()[0]
    world.execute(
        "select mentoring.outbox_failed(%s, %s, 'HTTP 503', %s)", (first, claims[first], later)
    )
    world.execute(
        "select mentoring.outbox_failed(%s, %s, 'HTTP 410', null)", (second, claims[second])
    )
    retried, dead = row(world, first), row(world, second)
    assert (retried["available_at"], retried["last_error"], retried["dead_at"]) == (
        later,
        "HTTP 503",
        None,
    )
    assert dead["dead_at"] is not None
    assert dead["last_error"] == "HTTP 410"
    assert claim(world.conn) == []


def test_a_relay_whose_lease_ran_out_cannot_undo_the_current_claim(world: World) -> None:
    [only] = notifications(world, 1)
    [stale] = claim(world.conn)
    world.execute("update mentoring.outbox set leased_until = now() - interval '1 second'")
    [current] = claim(world.conn)
    assert current["claim_id"] != stale["claim_id"]
    accepted = world.execute(
        "select mentoring.outbox_failed(%s, %s, 'late', null)", (only, stale["claim_id"])
    ).fetchone()
    assert accepted == (False,)
    assert row(world, only)["dead_at"] is None


def test_released_rows_are_pending_again_without_a_spent_attempt(world: World) -> None:
    [only] = notifications(world, 1)
    [claimed] = claim(world.conn)
    world.execute("select mentoring.outbox_release(%s, %s)", (claimed["claim_id"], [only]))
    [again] = claim(world.conn)
    assert again["attempts"] == 1


def test_requeue_brings_dead_letters_back(world: World) -> None:
    [only] = notifications(world, 1)
    [claimed] = claim(world.conn)
    world.execute(
        "select mentoring.outbox_failed(%s, %s, 'gone', null)", (only, claimed["claim_id"])
    )
    assert world.execute("select mentoring.outbox_requeue()").fetchone() == (1,)
    [again] = claim(world.conn)
    assert (again["id"], again["attempts"]) == (only, 1)


def test_purge_removes_only_delivered_rows_past_the_retention(world: World) -> None:
    old, recent, pending = notifications(world, 3)
    claim(world.conn)
    world.execute("select mentoring.outbox_delivered(%s)", ([old, recent],))
    world.execute(
        "update mentoring.outbox set delivered_at = now() - interval '8 days' where id = %s",
        (old,),
    )
    purged = world.execute("select mentoring.outbox_purge_delivered('7 days')").fetchone()
    assert purged == (1,)
    remaining = [r[0] for r in world.execute("select id from mentoring.outbox order by id")]
    assert remaining == [recent, pending]


def test_stats_count_the_backlog_by_state(world: World) -> None:
    delivered, dead, _leased, _due = notifications(world, 4)
    claims = {r["id"]: r["claim_id"] for r in claim(world.conn, batch=3)}
    world.execute("select mentoring.outbox_delivered(%s)", ([delivered],))
    world.execute("select mentoring.outbox_failed(%s, %s, 'x', null)", (dead, claims[dead]))
    with world.conn.cursor(row_factory=dict_row) as cur:
        stats = cur.execute("select * from mentoring.outbox_stats()").fetchone()
    assert stats is not None
    assert (
        stats["pending"],
        stats["due"],
        stats["in_flight"],
        stats["dead"],
        stats["delivered"],
    ) == (2, 1, 1, 1, 1)
    assert stats["oldest_pending_at"] is not None


def test_two_relays_claiming_at_once_get_different_rows(isolated_db: Database) -> None:
    with isolated_db.connect() as conn:
        ids = notifications(World(conn), 4)
        conn.commit()
    with isolated_db.connect() as first, isolated_db.connect() as second:
        with first.transaction():
            mine = claim(first, batch=2)
            theirs = claim(second, batch=10)  # does not wait for the first claim
        assert {r["id"] for r in mine} | {r["id"] for r in theirs} == set(ids)
        assert not {r["id"] for r in mine} & {r["id"] for r in theirs}


@pytest.mark.parametrize("arguments", [(0, "30 seconds"), (10, "0 seconds"), (None, "1 second")])
def test_a_claim_with_a_non_positive_batch_or_lease_is_refused(
    world: World, arguments: tuple[Any, str]
) -> None:
    with pytest.raises(psycopg.Error, match="must be positive"):
        world.execute("select mentoring.claim_outbox(%s, %s::interval)", arguments)


def test_only_the_service_role_may_claim(world: World) -> None:
    notifications(world, 1)
    with postgrest_request(world.conn, Identity.service()) as cur:
        assert len(cur.execute("select * from mentoring.claim_outbox(5, '1 minute')").fetchall())
    org = world.organizations[0]
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        postgrest_request(world.conn, org.admin) as cur,
    ):
        cur.execute("select * from mentoring.claim_outbox(5, '1 minute')")


def test_the_relay_role_claims_and_lists_the_outbox_and_nothing_more(world: World) -> None:
    notifications(world, 2)
    with world.conn.transaction(force_rollback=True):
        world.execute("set local role mentoring_relay")
        assert len(claim(world.conn, batch=1)) == 1
        assert world.execute("select count(*) from mentoring.outbox").fetchone() == (2,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            world.execute("select * from mentoring.mentors")
