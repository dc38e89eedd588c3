"""Benchmarks report medians and a ratio against a baseline measured in the same run."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pyproj_rpc.cli import main
from tests.conftest import Database


def test_the_transitions_benchmark_reports_medians_and_a_ratio(isolated_db: Database) -> None:
    result = CliRunner().invoke(
        main,
        ["bench", "transitions", "--operations", "20", "--json", "--database-url", isolated_db.url],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["operations"] == 20
    for side in ("baseline", "measured"):
        assert report[side]["samples"] == 20
        assert report[side]["median_us"] > 0
    assert report["ratio_of_medians"] > 0


def test_the_benchmark_refuses_a_database_that_is_not_migrated(empty_db: Database) -> None:
    result = CliRunner().invoke(main, ["bench", "transitions", "--database-url", empty_db.url])
    assert result.exit_code == 2
    assert "pyproj-rpc db upgrade" in result.output


def test_the_expiry_benchmark_reports_both_sides_at_each_roster_size(
    isolated_db: Database,
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "expiry",
            "--roster",
            "100",
            "--roster",
            "300",
            "--lapsed",
            "5",
            "--runs",
            "3",
            "--json",
            "--database-url",
            isolated_db.url,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [step["roster"] for step in report["steps"]] == [100, 300]
    for step in report["steps"]:
        assert step["baseline"]["samples"] == step["measured"]["samples"] == 3
    assert report["baseline_growth"] > 0
    assert report["sweep_growth"] > 0


def test_the_relay_benchmark_reports_both_sinks_per_notification(isolated_db: Database) -> None:
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "relay",
            "--rows",
            "20",
            "--runs",
            "3",
            "--json",
            "--database-url",
            isolated_db.url,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["rows"], report["runs"]) == (20, 3)
    assert report["baseline_per_row_us"] > 0
    assert report["measured_per_row_us"] > 0
    assert report["ratio_of_medians"] > 0
