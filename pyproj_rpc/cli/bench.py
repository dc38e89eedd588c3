"""``pyproj-rpc bench``: benchmarks that print medians and ratios against a baseline."""

from __future__ import annotations

import json

import click

from pyproj_rpc.bench import expiry as expiry_bench
from pyproj_rpc.bench import relay as relay_bench
from pyproj_rpc.bench import transitions as transitions_bench
from pyproj_rpc.provision import ready_database


@click.group()
def bench() -> None:
    """Measure costs against a baseline run alongside (default: on a throwaway cluster)."""


@bench.command()
@click.option("--operations", default=500, show_default=True, type=click.IntRange(10))
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="A database already at head. It gets benchmark rows. Default: a throwaway cluster.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def transitions(operations: int, database_url: str | None, as_json: bool) -> None:
    """A status change through the RPC, against a bare UPDATE of a status."""
    with ready_database(database_url) as url:
        report = transitions_bench.run(url, operations)
    click.echo(json.dumps(report.as_dict()) if as_json else report.text())


@bench.command()
@click.option(
    "--roster",
    "rosters",
    multiple=True,
    type=click.IntRange(10),
    default=(2_000, 20_000),
    show_default=True,
    help="Roster sizes to grow through (repeat the option).",
)
@click.option("--lapsed", default=50, show_default=True, type=click.IntRange(1))
@click.option("--runs", default=11, show_default=True, type=click.IntRange(3))
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="A database already at head. It gets benchmark rows. Default: throwaway.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def expiry(
    rosters: tuple[int, ...], lapsed: int, runs: int, database_url: str | None, as_json: bool
) -> None:
    """The expiry sweep against a scan of every mentor, as the roster grows."""
    if sorted(rosters) != list(rosters) or rosters[0] < lapsed:
        raise click.UsageError("--roster sizes must grow, the first at least --lapsed")
    with ready_database(database_url) as url:
        report = expiry_bench.run(url, rosters, lapsed, runs)
    click.echo(json.dumps(report.as_dict()) if as_json else report.text())


@bench.command()
@click.option("--rows", default=500, show_default=True, type=click.IntRange(10))
@click.option("--runs", default=5, show_default=True, type=click.IntRange(3))
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="A database already at head. It gets benchmark rows. Default: throwaway.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def relay(rows: int, runs: int, database_url: str | None, as_json: bool) -> None:
    """Delivering notifications to a webhook, against a sink that does nothing."""
    with ready_database(database_url) as url:
        report = relay_bench.run(url, rows, runs)
    click.echo(json.dumps(report.as_dict()) if as_json else report.text())
