"""The benchmarks' arithmetic and parsing, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyproj_rpc.bench.cluster import (
    client_connection,
    lapsed_count,
    lapsed_every,
    organizations_for,
)
from pyproj_rpc.bench.pgbench import PgbenchFailed, Workload, parse_result, read_latencies
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
