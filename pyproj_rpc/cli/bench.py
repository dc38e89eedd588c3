"""``pyproj-rpc bench``: benchmarks that print figures against a baseline run alongside.

Each scenario seeds databases of its own on a throwaway cluster with durable settings
(fsync on), or on the server of ``--database-url`` (as a superuser). Figures are medians
of interleaved rounds; the aims from the issue are printed next to them, never asserted.
Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import click

from pyproj_rpc.bench import expiry as expiry_bench
from pyproj_rpc.bench import reads as reads_bench
from pyproj_rpc.bench import relay as relay_bench
from pyproj_rpc.bench import transitions as transitions_bench
from pyproj_rpc.bench.cluster import MENTORS_PER_COORDINATOR, bench_server, candidates

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

TRANSITIONS, TRANSITIONS_QUICK = transitions_bench.Settings(), transitions_bench.QUICK
READS, READS_QUICK = reads_bench.Settings(), reads_bench.QUICK
EXPIRY, EXPIRY_QUICK = expiry_bench.Settings(), expiry_bench.QUICK
RELAY, RELAY_QUICK = relay_bench.Settings(), relay_bench.QUICK


class Report(Protocol):
    def text(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


def number_list(
    minimum: int,
    *,
    ascending: bool = False,
    what: str = "roster sizes",
    example: str = "100000,1000000",
) -> Callable[[click.Context, click.Parameter, str | None], tuple[int, ...] | None]:
    """A callback reading comma-separated whole numbers, each at least ``minimum``
    (with ``ascending``: distinct and in increasing order, else an error naming ``what``)."""

    def convert(
        ctx: click.Context, param: click.Parameter, value: str | None
    ) -> tuple[int, ...] | None:
        if value is None:
            return None
        try:
            numbers = tuple(int(part) for part in value.split(","))
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a comma-separated list of whole numbers", ctx, param
            ) from None
        if any(number < minimum for number in numbers):
            raise click.BadParameter(f"each must be at least {minimum}", ctx, param)
        if ascending and list(numbers) != sorted(set(numbers)):
            raise click.BadParameter(
                f"{what} must be distinct and ascending, e.g. {example}", ctx, param
            )
        return numbers

    return convert


def defaults(full: int | tuple[int, ...], quick: int | tuple[int, ...]) -> str:
    def shown(value: int | tuple[int, ...]) -> str:
        return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)

    return f"[default: {shown(full)}; --quick: {shown(quick)}]"


def pick(given: T | None, quick: bool, full: T, fast: T) -> T:
    """An option's value: as given, else its --quick default, else its default."""
    if given is not None:
        return given
    return fast if quick else full


def progress(line: str) -> None:
    click.echo(line, err=True)


def show(report: Report, as_json: bool) -> None:
    click.echo(json.dumps(report.as_dict()) if as_json else report.text())


def common_options(function: F) -> F:
    """--quick, --json and --database-url, the same on every scenario."""
    for option in reversed(
        [
            click.option(
                "--quick",
                is_flag=True,
                help="Small sizes and short runs: shows the benchmark works (CI runs"
                " `bench all --quick`, about a minute); not figures to quote.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
            click.option(
                "--database-url",
                help="A superuser's postgresql:// URL: the benchmark creates, seeds and drops"
                " databases pyproj_bench_* on that server. Default: a throwaway local cluster"
                " with fsync on.",
            ),
        ]
    ):
        function = option(function)
    return function


@click.group()
def bench() -> None:
    """Benchmarks, each with its baseline measured in the same run.

    Baseline and measured runs interleave in rounds; reports give medians of rounds,
    p50/p99, ratios, and the issue's aims (printed, never asserted). Scenarios seed
    databases of their own on a throwaway cluster with fsync on, or on the server of
    --database-url.
    """


@bench.command()
@click.option(
    "--clients",
    metavar="N,N,...",
    callback=number_list(1),
    help="Client counts, comma-separated; each at most the roster's coordinators"
    f" (roster / 200). {defaults(TRANSITIONS.clients, TRANSITIONS_QUICK.clients)}",
)
@click.option(
    "--roster",
    type=click.IntRange(MENTORS_PER_COORDINATOR),
    help=f"Mentors seeded. {defaults(TRANSITIONS.roster, TRANSITIONS_QUICK.roster)}",
)
@click.option(
    "--seconds",
    type=click.IntRange(1),
    help="Length of each run (the RPC's -t is calibrated to it)."
    f" {defaults(TRANSITIONS.seconds, TRANSITIONS_QUICK.seconds)}",
)
@click.option(
    "--rounds",
    type=click.IntRange(1),
    help="Rounds of interleaved runs; figures are their medians."
    f" {defaults(TRANSITIONS.rounds, TRANSITIONS_QUICK.rounds)}",
)
@common_options
def transitions(
    *,
    clients: tuple[int, ...] | None,
    roster: int | None,
    seconds: int | None,
    rounds: int | None,
    quick: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Pause/lift through the RPC, as PostgREST runs it, against pgbench's simple-update.

    Per client count: TPS and p50/p99 of the baseline, of the RPC, and of the RPC while a
    relay drains (writers skip their NOTIFY), with the ratios to the baseline.
    """
    full, fast = TRANSITIONS, TRANSITIONS_QUICK
    settings = transitions_bench.Settings(
        clients=pick(clients, quick, full.clients, fast.clients),
        roster=pick(roster, quick, full.roster, fast.roster),
        seconds=pick(seconds, quick, full.seconds, fast.seconds),
        rounds=pick(rounds, quick, full.rounds, fast.rounds),
    )
    check_transitions(settings)
    with bench_server(database_url) as server:
        show(transitions_bench.run(server, settings, progress), as_json)


def check_transitions(settings: transitions_bench.Settings) -> None:
    most = transitions_bench.max_clients(settings.roster)
    if len(set(settings.clients)) != len(settings.clients):
        raise click.BadParameter("each client count once", param_hint="--clients")
    if max(settings.clients) > most:
        raise click.BadParameter(
            f"{max(settings.clients)} clients, but a roster of {settings.roster} has {most}"
            f" coordinators and each client acts as one: give at most {most} clients or a"
            f" roster of at least {max(settings.clients) * MENTORS_PER_COORDINATOR}",
            param_hint="--clients",
        )


@bench.command()
@click.option(
    "--roster",
    "rosters",
    metavar="N,N,...",
    callback=number_list(MENTORS_PER_COORDINATOR, ascending=True),
    help="Roster sizes, ascending, comma-separated; each gets its own database."
    f" {defaults(READS.rosters, READS_QUICK.rosters)}",
)
@click.option(
    "--seconds",
    type=click.IntRange(1),
    help=f"Length of each run (-T). {defaults(READS.seconds, READS_QUICK.seconds)}",
)
@click.option(
    "--rounds",
    type=click.IntRange(1),
    help="Rounds of interleaved runs; figures are their medians."
    f" {defaults(READS.rounds, READS_QUICK.rounds)}",
)
@common_options
def reads(
    *,
    rosters: tuple[int, ...] | None,
    seconds: int | None,
    rounds: int | None,
    quick: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """get_current_status as a coordinator against service_role (at the largest roster),
    get_paused_mentors at each roster size against the smallest; with their plans."""
    full, fast = READS, READS_QUICK
    settings = reads_bench.Settings(
        rosters=pick(rosters, quick, full.rosters, fast.rosters),
        seconds=pick(seconds, quick, full.seconds, fast.seconds),
        rounds=pick(rounds, quick, full.rounds, fast.rounds),
    )
    with bench_server(database_url) as server:
        show(reads_bench.run(server, settings, progress), as_json)


@bench.command()
@click.option(
    "--roster",
    "rosters",
    metavar="N,N,...",
    callback=number_list(10, ascending=True),
    help="Roster sizes, ascending, comma-separated; each gets its own database."
    f" {defaults(EXPIRY.rosters, EXPIRY_QUICK.rosters)}",
)
@click.option(
    "--lapsed",
    type=click.IntRange(1),
    help="About how many mentors have a lapsed certification, at every roster size"
    f" (at most a tenth of the smallest). {defaults(EXPIRY.lapsed, EXPIRY_QUICK.lapsed)}",
)
@click.option(
    "--runs",
    type=click.IntRange(1),
    help="Runs of each side, interleaved; figures are their medians."
    f" {defaults(EXPIRY.runs, EXPIRY_QUICK.runs)}",
)
@common_options
def expiry(
    *,
    rosters: tuple[int, ...] | None,
    lapsed: int | None,
    runs: int | None,
    quick: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """The expiry sweep against a bare UPDATE and against its writes done by hand, set-based
    (each in a transaction rolled back)."""
    full, fast = EXPIRY, EXPIRY_QUICK
    settings = expiry_bench.Settings(
        rosters=pick(rosters, quick, full.rosters, fast.rosters),
        lapsed=pick(lapsed, quick, full.lapsed, fast.lapsed),
        runs=pick(runs, quick, full.runs, fast.runs),
    )
    check_expiry(settings)
    with bench_server(database_url) as server:
        show(expiry_bench.run(server, settings, progress), as_json)


def check_expiry(settings: expiry_bench.Settings) -> None:
    most = candidates(settings.rosters[0])
    if settings.lapsed > most:
        raise click.BadParameter(
            f"a roster of {settings.rosters[0]} has at most {most} lapsed mentors",
            param_hint="--lapsed",
        )


@bench.command()
@click.option(
    "--rows",
    type=click.IntRange(10, 1_000_000),
    help="Backlog the relay drains, in notifications (one per status change)."
    f" {defaults(RELAY.rows, RELAY_QUICK.rows)}",
)
@click.option(
    "--rounds",
    type=click.IntRange(1),
    help="Rounds of the drain (SQL loop, relay to a no-op sink, relay to a webhook,"
    f" interleaved); figures are their medians. {defaults(RELAY.rounds, RELAY_QUICK.rounds)}",
)
@click.option(
    "--rates",
    metavar="N,N,...",
    callback=number_list(1, ascending=True, what="rates", example="100,500,1000"),
    help="Steady write rates (status changes per second), ascending, comma-separated: at"
    " each, the commit -> webhook receipt latency of a relay process."
    f" {defaults(RELAY.rates, RELAY_QUICK.rates)}",
)
@click.option(
    "--seconds",
    type=click.IntRange(1),
    help=f"Length of each rate's writes. {defaults(RELAY.seconds, RELAY_QUICK.seconds)}",
)
@common_options
def relay(
    *,
    rows: int | None,
    rounds: int | None,
    rates: tuple[int, ...] | None,
    seconds: int | None,
    quick: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """The relay draining a backlog against the SQL loop (claim_outbox + outbox_delivered),
    and commit -> webhook receipt latency at steady write rates, with p50/p99.

    The latency starts at the server's commit timestamp: the throwaway cluster runs with
    track_commit_timestamp = on; on a server without it, the rows' insert times stand in
    (the report says so).
    """
    full, fast = RELAY, RELAY_QUICK
    settings = relay_bench.Settings(
        rows=pick(rows, quick, full.rows, fast.rows),
        rounds=pick(rounds, quick, full.rounds, fast.rounds),
        rates=pick(rates, quick, full.rates, fast.rates),
        seconds=pick(seconds, quick, full.seconds, fast.seconds),
    )
    with bench_server(database_url) as server:
        show(relay_bench.run(server, settings, progress), as_json)


@bench.command(name="all")
@common_options
def all_benchmarks(quick: bool, as_json: bool, database_url: str | None) -> None:
    """Every scenario with its default settings (or --quick's): transitions, reads,
    expiry, relay, on one server. Text reports print as each finishes."""
    reports: list[Report] = []

    def done(report: Report) -> None:
        reports.append(report)
        if not as_json:
            click.echo(report.text() + "\n")

    with bench_server(database_url) as server:
        done(
            transitions_bench.run(
                server,
                TRANSITIONS_QUICK if quick else TRANSITIONS,
                progress,
            )
        )
        done(reads_bench.run(server, READS_QUICK if quick else READS, progress))
        done(expiry_bench.run(server, EXPIRY_QUICK if quick else EXPIRY, progress))
        done(relay_bench.run(server, RELAY_QUICK if quick else RELAY, progress))
    if as_json:
        click.echo(json.dumps({"benchmark": "all", "reports": [r.as_dict() for r in reports]}))
