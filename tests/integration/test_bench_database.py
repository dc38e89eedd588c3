"""The benchmarks' databases: durable, seeded as roster.sql says, and honest baselines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from pyproj_rpc import rpc
from pyproj_rpc.bench.cluster import BenchServer, Roster, bench_server, numbered_id
from pyproj_rpc.bench.pgbench import Pgbench, PgbenchFailed
from pyproj_rpc.bench.transitions import TRANSITION
from pyproj_rpc.identity import Identity
from pyproj_rpc.localdb import ConnectionInfo
from pyproj_rpc.queries import query
from tests.support import World, call


@pytest.fixture(scope="module")
def server(pg_server: ConnectionInfo) -> Iterator[BenchServer]:
    with bench_server(pg_server.socket_url("postgres")) as server:
        yield server


@pytest.fixture(scope="module")
def roster(server: BenchServer) -> Iterator[Roster]:
    with server.roster(400, lapsed=5) as roster:
        yield roster


def test_the_throwaway_bench_cluster_is_durable() -> None:
    with bench_server() as server, psycopg.connect(server.admin_url) as conn:
        settings = {
            name: conn.execute(f"show {name}").fetchone()[0]  # type: ignore[index]
            for name in (
                "fsync",
                "synchronous_commit",
                "full_page_writes",
                "shared_buffers",
                "max_wal_size",
                "checkpoint_timeout",
            )
        }
    assert settings == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
        "shared_buffers": "2GB",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "30min",
    }


def test_a_roster_is_seeded_as_its_header_says(roster: Roster) -> None:
    with psycopg.connect(roster.url) as conn:
        counts = conn.execute(
            "select count(*), count(*) filter (where status = 'paused'),"
            " count(*) filter (where certified_through < current_date)"
            " from mentoring.mentors"
        ).fetchone()
        assert counts == (400, 40, roster.lapsed)
        assert roster.lapsed == 5
        # mentor 201 is the first of coordinator 2; mentor 210 is paused by them
        assigned = conn.execute(
            "select c.coordinator_id, m.status::text from mentoring.mentor_coordinators c"
            " join mentoring.mentors m on m.id = c.mentor_id where m.id = %s",
            (numbered_id("m", 210),),
        ).fetchone()
        assert assigned == (numbered_id("c", 2), "paused")


def test_a_bench_database_is_dropped_afterwards(server: BenchServer) -> None:
    with server.roster(200) as roster:
        name = roster.name
    with psycopg.connect(server.admin_url) as conn:
        left = conn.execute("select count(*) from pg_database where datname = %s", (name,))
        assert left.fetchone() == (0,)


def test_a_pgbench_client_abort_is_a_clear_error(server: BenchServer, roster: Roster) -> None:
    pgbench = Pgbench(server.tool("pgbench"), roster.url)
    # an odd offset: the first transaction lifts a pause that was never taken
    with pytest.raises(PgbenchFailed, match=r"(?s)failed.*transition_not_allowed"):
        pgbench.run(TRANSITION, 1, transactions=2, variables={"i": 1})


def expiry_writes(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every status event with its mentor, pause and outbox rows; without what differs
    from run to run (ids, times) or by who ran it (the database role)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            select e.mentor_id, e.sequence, e.from_status, e.to_status, e.reason,
                   e.actor_user_id, e.actor_kind, e.forced, e.findings, e.idempotency_key,
                   e.pause_id, m.status as mentor_status, m.status_version, m.open_pause_id,
                   p.end_date, p.end_reason, p.ended_by, p.ended_by_kind, p.end_note,
                   (p.ended_at = e.occurred_at) as pause_ended_at_the_change,
                   (select jsonb_agg(jsonb_build_object('recipient', o.recipient_id,
                             'kind', o.kind,
                             'payload', o.payload - 'event_id' - 'occurred_at' - 'hash',
                             'carries_its_hash', o.payload ->> 'hash' = encode(e.hash, 'hex'),
                             'names_its_event', (o.payload ->> 'event_id')::bigint = e.id)
                           order by o.recipient_id)
                    from mentoring.outbox o where o.event_id = e.id) as outbox
            from mentoring.status_events e
            join mentoring.mentors m on m.id = e.mentor_id
            left join mentoring.pause_periods p on p.id = e.pause_id
            where e.to_status = 'expired_cert'
            order by e.mentor_id
            """
        ).fetchall()


def test_the_hand_written_expiry_writes_what_the_state_machine_writes(
    world: World, db: psycopg.Connection[Any]
) -> None:
    org = world.organization()
    coordinators = (org.coordinator(), org.coordinator())
    active = org.mentor(coordinators=coordinators, name="Active")
    paused = org.mentor(coordinators=coordinators[:1], name="Paused")
    call(
        db,
        coordinators[0],
        "activate_pause",
        mentor_id=paused.id,
        reason="Exam week",
        expected_return_date=world.today(org.id) + timedelta(days=7),
    )
    org.mentor(coordinators=coordinators, name="Still certified")
    world.lapse(active)
    world.lapse(paused)

    with db.transaction(force_rollback=True):
        expired = rpc.call(
            db, Identity.service(), "expire_lapsed_certifications", {"batch_size": 10}
        )
        assert expired == [2]
        by_the_state_machine = expiry_writes(db)
    with db.transaction(force_rollback=True):
        db.execute(query("bench_skip_triggers"))
        counts = db.execute(query("bench_expire_by_hand")).fetchone()
        assert counts == (2, 2, 3)
        by_hand = expiry_writes(db)

    assert len(by_hand) == 2
    assert by_hand == by_the_state_machine
    assert by_hand[0]["outbox"][0]["names_its_event"]
