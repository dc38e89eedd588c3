"""``pyproj-rpc bench``: each scenario reports both sides, the ratios and the aims.

The scenarios run with tiny sizes on the session's server (a superuser URL: they create
and drop databases of their own there). No figure is asserted beyond being positive.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import click
import psycopg
import pytest
from click.testing import CliRunner, Result

from pyproj_rpc.cli import main
from pyproj_rpc.localdb import ConnectionInfo

VISITOR = "pyproj_bench_visitor"


@pytest.fixture
def server_url(pg_server: ConnectionInfo) -> str:
    """A superuser's URL on the session's server."""
    return pg_server.socket_url("postgres")


def bench(*args: str) -> Result:
    return CliRunner().invoke(main, ["bench", *args])


def report_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def assert_positive_figures(side: dict[str, Any], *figures: str) -> None:
    for figure in figures:
        assert side[figure] > 0, (figure, side)


def assert_aims(report: dict[str, Any], count: int) -> None:
    assert len(report["aims"]) == count
    for aim in report["aims"]:
        assert aim["description"]
        assert aim["limit"] > 0
        assert aim["comparison"] in ("<=", ">=")
        assert aim["met"] in (True, False, None)


def test_transitions_report_the_baseline_and_the_rpc_with_ratios_and_aims(
    server_url: str,
) -> None:
    report = report_of(
        bench(
            "transitions",
            *("--clients", "1,2", "--roster", "400", "--seconds", "1", "--rounds", "1"),
            *("--json", "--database-url", server_url),
        )
    )
    assert report["roster"]["mentors"] == 400
    assert report["roster"]["seed_seconds"] > 0
    assert [r["clients"] for r in report["results"]] == [1, 2]
    for result in report["results"]:
        assert result["transactions_per_client"] % 2 == 0
        assert result["by_hand_transactions_per_client"] % 2 == 0
        for side in ("baseline", "by_hand", "rpc", "rpc_relay_draining"):
            assert_positive_figures(result[side], "tps", "p50_ms", "p99_ms")
            assert len(result[side]["rounds"]) == 1
        # the writes by hand leave the roster as the state machine would: the RPC goes on
        for side in ("by_hand", "rpc", "rpc_relay_draining"):
            assert_positive_figures(result[side], "tps_ratio", "p50_ratio")
            assert result[side]["rounds"][0]["failures"] == 0
        assert result["rpc_over_by_hand_tps"] > 0
    assert_aims(report, 4)
    at_one_client = [a for a in report["aims"] if "at 1 client" in a["description"]]
    assert all(a["value"] > 0 for a in at_one_client)  # measured; 8 clients were not


def test_reads_report_both_callers_each_roster_and_the_plans(server_url: str) -> None:
    report = report_of(
        bench(
            "reads",
            *("--roster", "200,400", "--seconds", "1", "--rounds", "1"),
            *("--json", "--database-url", server_url),
        )
    )
    status = report["current_status"]
    assert status["roster"] == 400
    for caller in ("coordinator", "service_role"):
        assert_positive_figures(status[caller], "tps", "p50_ms", "p99_ms")
    assert status["p99_ratio"] > 0
    paused = report["paused_mentors"]
    assert [r["roster"] for r in paused["by_roster"]] == [200, 400]
    for runs in paused["by_roster"]:
        assert_positive_figures(runs, "tps", "p50_ms", "p99_ms")
    assert paused["p99_growth"] > 0
    assert_aims(report, 3)
    plans = report["plans"]
    assert [(p["title"].split(",")[0], p["roster"]) for p in plans] == [
        ("get_current_status", 400),
        ("get_current_status", 400),
        ("get_paused_mentors", 200),
        ("get_paused_mentors", 400),
    ]
    for plan in plans:
        assert any("Execution Time" in line for line in plan["lines"])
        assert any("Buffers" in line for line in plan["lines"])


def test_reads_print_the_plans_indented(server_url: str) -> None:
    result = bench(
        "reads", "--roster", "200", "--seconds", "1", "--rounds", "1", "--database-url", server_url
    )
    assert result.exit_code == 0, result.output
    assert "get_paused_mentors, a coordinator's own listing at 200" in result.stdout
    assert "\n      Sort" in result.stdout
    assert "aim: get_current_status p99" in result.stdout


def test_expiry_reports_the_sweep_against_bare_and_by_hand(server_url: str) -> None:
    report = report_of(
        bench(
            "expiry",
            *("--roster", "200,400", "--lapsed", "5", "--runs", "2"),
            *("--json", "--database-url", server_url),
        )
    )
    assert [s["roster"]["mentors"] for s in report["steps"]] == [200, 400]
    for step in report["steps"]:
        assert step["roster"]["lapsed"] == 5
        for side in ("sweep", "bare", "hand"):
            assert step[side]["median_ms"] > 0
            assert len(step[side]["runs_ms"]) == 2
        assert step["sweep_over_hand"] > 0
        assert step["sweep_over_bare"] > 0
    assert_aims(report, 2)


def assert_relay_report(report: dict[str, Any], rows: int, rates: list[int]) -> None:
    assert report["benchmark"] == "relay"
    assert report["roster"]["mentors"] > 0
    drain = report["drain"]
    assert (drain["rows"], drain["rounds"]) == (rows, 1)
    assert (drain["batch_size"], drain["concurrency"]) == (100, 16)  # the relay's defaults
    for side in ("sql_loop", "relay_noop", "relay_webhook"):
        assert_positive_figures(drain[side], "rows_per_second")
        assert len(drain[side]["rounds_seconds"]) == 1
    assert drain["relay_noop"]["ratio_to_sql_loop"] > 0
    assert drain["relay_webhook"]["ratio_to_sql_loop"] > 0
    assert drain["relay_webhook"]["ratio_to_noop"] > 0
    latency = report["latency"]
    assert latency["poll_interval"] == 5.0  # the relay's default: wake-ups do the work
    assert [r["target_per_second"] for r in latency["rates"]] == rates
    for run in latency["rates"]:
        assert_positive_figures(run, "achieved_per_second", "writes", "rows", "p50_ms", "p99_ms")
        assert run["failures"] == 0
        assert run["received"] == run["rows"] == run["writes"]  # one coordinator each
        assert run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
        assert run["backlog_at_end"] >= 0
        assert isinstance(run["sustained"], bool)
    assert_aims(report, 3)
    assert report["aims"][0]["unit"] == " rows/s"


def test_the_relay_benchmark_reports_the_drain_and_the_latency(server_url: str) -> None:
    report = report_of(
        bench(
            "relay",
            *("--rows", "200", "--rounds", "1", "--rates", "20,40", "--seconds", "1"),
            *("--json", "--database-url", server_url),
        )
    )
    assert_relay_report(report, 200, [20, 40])
    assert report["drain"]["rows"] == 200
    with psycopg.connect(server_url) as conn:
        tracked = conn.execute("show track_commit_timestamp").fetchone()
    assert report["server"]["track_commit_timestamp"] == tracked[0]  # type: ignore[index]
    assert report["latency"]["clock"] == ("commit" if tracked == ("on",) else "insert")


def test_the_relay_benchmark_prints_both_parts_and_the_aims(server_url: str) -> None:
    result = bench(
        "relay",
        *("--rows", "100", "--rounds", "1", "--rates", "20", "--seconds", "1"),
        *("--database-url", server_url),
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    for line in (
        "SQL loop: claim_outbox + outbox_delivered",
        "relay, no-op sink",
        "relay, signed webhook to a loopback receiver",
        "webhook / no-op",
        "highest sustained rate:",
        "aim: drain, one relay, no-op sink, 100 rows: rows/s >= 5000 rows/s",
        "aim: drain: relay (no-op sink) / SQL loop",
        "webhook receipt p99",
    ):
        assert line in text, line
    if "track_commit_timestamp=off" in text:
        assert "track_commit_timestamp is OFF on this server" in text


def test_the_relay_latency_starts_at_the_commit_on_the_throwaway_cluster() -> None:
    report = report_of(
        bench(
            "relay",
            *("--rows", "100", "--rounds", "1", "--rates", "20", "--seconds", "1"),
            "--json",
        )
    )
    assert_relay_report(report, 100, [20])
    assert report["server"]["track_commit_timestamp"] == "on"
    assert report["server"]["fsync"] == "on"
    assert report["latency"]["clock"] == "commit"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("transitions", "--clients", "1,3", "--roster", "400"), "at most 2 clients"),
        (("transitions", "--clients", "2,2", "--roster", "400"), "each client count once"),
        (("transitions", "--clients", "1,x"), "not a comma-separated list"),
        (("transitions", "--clients", "0"), "at least 1"),
        (("reads", "--roster", "400,200"), "ascending"),
        (("reads", "--roster", "100"), "at least 200"),
        (("expiry", "--roster", "1000,1000"), "ascending"),
        (("expiry", "--roster", "200", "--lapsed", "50"), "at most 20 lapsed"),
        (("relay", "--rates", "500,100"), "rates must be distinct and ascending"),
        (("relay", "--rates", "100,100"), "rates must be distinct and ascending"),
        (("relay", "--rates", "0,100"), "at least 1"),
        (("relay", "--rates", "-5"), "at least 1"),
        (("relay", "--rates", "fast"), "not a comma-separated list"),
        (("relay", "--rows", "5"), "10<=x<=1000000"),
        (("relay", "--seconds", "0"), "x>=1"),
        (("relay", "--rounds", "0"), "x>=1"),
        (("relay", "--database-url", "mysql://localhost/x"), "postgresql:// URL"),
        (("all", "--database-url", "mysql://localhost/x"), "postgresql:// URL"),
    ],
)
def test_bad_input_is_a_usage_error(args: tuple[str, ...], message: str) -> None:
    result = bench(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.fixture
def visitor_url(pg_server: ConnectionInfo) -> Iterator[str]:
    """A login that is not a superuser."""
    with psycopg.connect(pg_server.socket_url("postgres"), autocommit=True) as conn:
        conn.execute(f"create role {VISITOR} login")
        try:
            yield dataclasses.replace(pg_server, user=VISITOR).socket_url("postgres")
        finally:
            conn.execute(f"drop role {VISITOR}")


@pytest.mark.parametrize("scenario", ["reads", "relay"])
def test_a_server_needs_a_superuser(visitor_url: str, scenario: str) -> None:
    result = bench(scenario, "--quick", "--database-url", visitor_url)
    assert result.exit_code == 2, result.output
    assert "superuser" in result.output


def test_every_option_has_help() -> None:
    group = main.commands["bench"]
    assert isinstance(group, click.Group)
    for name, command in group.commands.items():
        options = [p for p in command.params if isinstance(p, click.Option)]
        assert options, name
        assert all(option.help for option in options), name
        assert bench(name, "--help").exit_code == 0
