"""The benchmarks' arithmetic and parsing, without a server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyproj_rpc.bench import relay as relay_bench
from pyproj_rpc.bench.cluster import (
    DURABLE_SETTINGS,
    client_connection,
    lapsed_count,
    lapsed_every,
    organizations_for,
)
from pyproj_rpc.bench.pgbench import PgbenchFailed, Workload, parse_result, read_latencies
from pyproj_rpc.bench.relay import Drain, Latency, RateRun
from pyproj_rpc.bench.stats import Aim, percentile
from pyproj_rpc.bench.transitions import even_transactions, max_clients

PGBENCH_OUTPUT = """\
pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: db/bench/rpc_transition.sql
number of transactions actually processed: 440/440
number of failed transactions: 2 (0.455%)
latency average = 1.339 ms
initial connection time = 2.198 ms
tps = 746.612345 (without initial connection time)
"""


def brute_force_lapsed(mentors: int, every: int) -> int:
    """roster.sql's rule, mentor by mentor."""
    return sum(1 for n in range(1, mentors + 1) if n % 10 == 5 and (n // 10) % every == every - 1)


@pytest.mark.parametrize(("mentors", "lapsed"), [(200, 5), (2_000, 50), (6_000, 50), (1_005, 7)])
def test_the_lapsed_count_follows_the_seeders_rule(mentors: int, lapsed: int) -> None:
    every = lapsed_every(mentors, lapsed)
    assert lapsed_count(mentors, every) == brute_force_lapsed(mentors, every)
    assert lapsed <= lapsed_count(mentors, every) < 2 * lapsed


def test_no_lapsed_mentor_unless_asked() -> None:
    assert lapsed_count(1_000_000, lapsed_every(1_000_000, 0)) == 0


def test_about_one_organization_per_ten_thousand_mentors() -> None:
    assert [organizations_for(n) for n in (200, 10_000, 100_000, 1_000_000)] == [1, 1, 10, 100]


def test_each_client_needs_a_coordinator_and_runs_an_even_number_of_transactions() -> None:
    assert max_clients(10_000) == 50
    assert max_clients(399) == 1
    assert even_transactions(10, 123.4) == 1234
    assert even_transactions(1, 0.1) == 2
    assert all(even_transactions(s, r) % 2 == 0 for s in (1, 2, 10) for r in (0.5, 3.3, 77.7))


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7], 0.99) == 7


def test_an_aim_says_whether_it_is_met() -> None:
    assert Aim("p99 ratio", 1.2, 1.5).met is True
    assert Aim("tps ratio", 0.4, 0.5, at_most=False).met is False
    assert Aim("not run", None, 0.5).met is None
    assert "NOT met" in Aim("p99", 3.0, 2.0, unit=" ms").text()


def test_pgbench_figures_come_from_its_summary_and_its_log(tmp_path: Path) -> None:
    (tmp_path / "x.123").write_text("0 1 1500 0 1700000000 1\n0 2 2500 0 1700000000 2\n")
    (tmp_path / "x.123.1").write_text("1 1 failed 0 1700000000 3\n1 2 500 0 1700000000 4\n")
    latencies = read_latencies(tmp_path)
    assert sorted(latencies) == [500, 1500, 2500]
    result = parse_result(PGBENCH_OUTPUT, latencies, Workload.pgbench_builtin("simple-update"))
    assert (result.tps, result.transactions, result.failures) == (746.612345, 440, 2)
    assert (result.p50_us, result.p99_us) == (1500, 2500)


def test_pgbench_without_figures_is_an_error() -> None:
    with pytest.raises(PgbenchFailed, match="no figures"):
        parse_result("pgbench (15)\n", [], Workload.pgbench_builtin("simple-update"))


def test_client_programs_get_the_password_through_the_environment() -> None:
    url, env = client_connection(
        "postgresql://bench%20user:s%40cret@db.example:5433/x?sslmode=require"
    )
    assert url == "postgresql://bench%20user@db.example:5433/x?sslmode=require"
    assert env["PGPASSWORD"] == "s@cret"
    same, _ = client_connection("postgresql://postgres@/x?host=%2Ftmp&port=5432")
    assert same == "postgresql://postgres@/x?host=%2Ftmp&port=5432"


def test_the_benchmark_cluster_keeps_commit_timestamps() -> None:
    assert DURABLE_SETTINGS["track_commit_timestamp"] == "on"
    assert DURABLE_SETTINGS["fsync"] == "on"


@pytest.mark.parametrize("rows", [10, 180, 181, 1_000, 20_000])
def test_the_relay_backlog_is_the_first_active_mentors_of_its_coordinators(rows: int) -> None:
    organizations = organizations_for(relay_bench.roster_size(rows))
    chosen = relay_bench.backlog_mentors(rows, organizations)
    mentors = [m for share in chosen.values() for m in share]
    assert len(mentors) == len(set(mentors)) == rows
    assert set(chosen) <= set(range(1, organizations + 1))
    coordinators = relay_bench.backlog_coordinators(rows)
    assert (coordinators - 1) * 180 < rows <= coordinators * 180
    # the writers' coordinators come after the backlog's, each with its 180 active mentors
    assert relay_bench.roster_size(rows) == (coordinators + relay_bench.WRITER_COORDINATORS) * 200
    writer = relay_bench.Writer.number(coordinators + 1)
    assert len(writer.mentors) == 180
    assert not {m for m, _ in writer.mentors} & set(mentors)


def test_roster_sql_pauses_every_tenth_mentor_so_180_of_200_are_active() -> None:
    assert relay_bench.active_mentors(1) == [n for n in range(1, 201) if n % 10]
    assert relay_bench.active_mentors(2)[0] == 201


def test_a_writer_pauses_each_of_its_mentors_then_lifts_each() -> None:
    writer = relay_bench.Writer.number(3)
    first, *_ = writer.mentors
    changes = [writer.next_call() for _ in range(2 * 180 + 1)]
    assert [c.function for _, c in changes[:180]] == ["activate_pause"] * 180
    assert [c.function for _, c in changes[180:360]] == ["lift_pause"] * 180
    assert changes[360][1].function == "activate_pause"
    identity, pause = changes[0]
    assert (pause.arguments["mentor_id"], identity) == first  # the mentor acts on itself
    assert changes[180][1].arguments["mentor_id"] == first[0]


def test_writers_are_added_as_the_rate_grows() -> None:
    assert [relay_bench.writers_for(r) for r in (1, 150, 151, 500, 1000, 5000)] == [
        1,
        1,
        2,
        4,
        7,
        relay_bench.WRITER_COORDINATORS,
    ]


def rate_run(target: int, achieved: float, latencies: list[float], **kwargs: Any) -> RateRun:
    fields: dict[str, Any] = {
        "target": target,
        "writers": 1,
        "seconds": 10.0,
        "writes": round(achieved * 10),
        "failures": 0,
        "rows": len(latencies),
        "latencies_ms": latencies,
        "backlog_at_end": 0,
        "caught_up_seconds": 0.1,
    }
    fields.update(kwargs)
    return RateRun(**fields)


def test_a_rate_is_sustained_when_the_writers_keep_it_and_the_relay_keeps_up() -> None:
    assert rate_run(100, 99.0, [1.0, 2.0]).sustained
    assert not rate_run(100, 90.0, [1.0, 2.0]).sustained  # the writers fell behind
    assert not rate_run(100, 100.0, [1.0, 2.0], caught_up_seconds=3.0).sustained
    missing = rate_run(100, 100.0, [1.0], rows=2, caught_up_seconds=None)
    assert (missing.missing, missing.kept_up, missing.sustained) == (1, False, False)


def test_the_latency_aim_is_read_at_the_highest_sustained_rate() -> None:
    latency = Latency(10, "commit", 5.0)
    latency.runs = [
        rate_run(100, 100.0, [2.0] * 99 + [10.0]),
        rate_run(500, 500.0, [5.0] * 98 + [30.0] * 2),
        rate_run(1000, 700.0, [500.0] * 100),  # not sustained
    ]
    assert latency.highest_sustained is latency.runs[1]
    assert latency.highest_within_aim is latency.runs[0]
    assert latency.runs[1].p(0.5) == 5.0
    assert latency.runs[1].p(0.99) == 30.0
    summary = latency.as_dict()
    assert (summary["highest_sustained_rate"], summary["highest_rate_p99_within_aim"]) == (500, 100)


def test_drain_ratios_are_medians_of_rounds() -> None:
    drain = Drain(rows=1000, rounds=3, batch_size=100, concurrency=16)
    drain.seconds = {
        "sql_loop": [0.1, 0.1, 0.2],
        "relay_noop": [0.2, 0.4, 0.2],
        "relay_webhook": [2.0, 2.0, 2.0],
    }
    assert drain.rate("sql_loop") == 10_000
    assert drain.ratio("relay_noop", "sql_loop") == 0.5  # round by round: 0.5, 0.25, 1.0
    assert drain.ratio("relay_webhook", "relay_noop") == 0.1


def test_the_receiver_notes_each_webhook_with_its_outbox_id() -> None:
    receiver = relay_bench.Receiver()
    try:
        with httpx.Client() as client:
            before = time.time()
            for outbox_id in (7, 8):
                response = client.post(
                    receiver.url, content=b"{}", headers={"webhook-id": f"msg_{outbox_id}"}
                )
                assert response.status_code == 204
            client.post(receiver.url, content=b"{}")  # no webhook-id: answered, not noted
        arrivals = receiver.take()
        assert [outbox_id for _, outbox_id in arrivals] == [7, 8]
        assert all(before <= arrived <= time.time() for arrived, _ in arrivals)
        assert receiver.take() == []
    finally:
        receiver.close()


def test_a_script_with_triggers_off_sets_them_off_once_per_connection() -> None:
    off = Workload.script("hand_transition.sql", triggers_off=True).environment()
    assert off == {"PGOPTIONS": "-c session_replication_role=replica"}
    assert Workload.script("rpc_transition.sql").environment() == {}
