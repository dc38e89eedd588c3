"""What the read RPCs cost as the roster grows, and for whom.

Each roster size gets its own seeded database. Per round: at the largest roster,
``db/bench/rpc_current_status.sql`` as service_role (which skips row-level security: the
baseline), then as the mentor's coordinator; at each roster,
``db/bench/rpc_paused_mentors.sql`` as a coordinator (its cost should follow the
coordinator's mentors, not the roster: the smallest roster is the baseline). One client,
``-T seconds`` each. Then ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the functions
run, as the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, LiteralString
from uuid import UUID

import psycopg

from pyproj_rpc.bench.cluster import (
    MENTORS_PER_COORDINATOR,
    BenchServer,
    Roster,
    ServerFacts,
    numbered_id,
)
from pyproj_rpc.bench.pgbench import Pgbench, PgbenchResult, Workload
from pyproj_rpc.bench.stats import Aim, aims_text, median, ms, times
from pyproj_rpc.identity import Identity, postgrest_request
from pyproj_rpc.queries import query
from pyproj_rpc.text import format_table

CURRENT_STATUS = Workload.script("rpc_current_status.sql")
PAUSED_MENTORS = Workload.script("rpc_paused_mentors.sql")
CLIENTS = 1
WARM_UP_TRANSACTIONS = 200
STATUS_P99_AIM = 1.5  # coordinator / service_role
PAUSED_GROWTH_AIM = 1.2  # largest roster / smallest
PAUSED_P99_AIM_MS = 2.0


@dataclass(frozen=True)
class Settings:
    rosters: tuple[int, ...] = (100_000, 1_000_000)
    seconds: int = 10
    rounds: int = 3


QUICK = Settings(rosters=(2_000, 6_000), seconds=1, rounds=1)


@dataclass
class Runs:
    """One workload on one database, run once per round."""

    label: str
    roster: int
    pgbench: Pgbench
    workload: Workload
    variables: dict[str, str | int]
    runs: list[PgbenchResult] = field(default_factory=list)

    def warm_up(self) -> None:
        self.pgbench.run(
            self.workload, CLIENTS, transactions=WARM_UP_TRANSACTIONS, variables=self.variables
        )

    def measure(self, seconds: int) -> None:
        self.runs.append(
            self.pgbench.run(self.workload, CLIENTS, seconds=seconds, variables=self.variables)
        )

    def median_of(self, figure: str) -> float:
        return median([getattr(run, figure) for run in self.runs])

    def ratio(self, baseline: Runs, figure: str = "p99_us") -> float:
        """Median over rounds of this figure over the baseline's, round by round."""
        return median(
            [
                getattr(measured, figure) / getattr(base, figure)
                for measured, base in zip(self.runs, baseline.runs, strict=True)
            ]
        )

    def row(self, ratio: float | None) -> tuple[object, ...]:
        return (
            self.label,
            f"{self.roster:,}",
            f"{self.median_of('tps'):.0f}",
            ms(self.median_of("p50_us")),
            ms(self.median_of("p99_us")),
            times(ratio),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "roster": self.roster,
            "tps": round(self.median_of("tps"), 1),
            "p50_ms": round(self.median_of("p50_us") / 1000, 3),
            "p99_ms": round(self.median_of("p99_us") / 1000, 3),
            "rounds": [run.summary() for run in self.runs],
        }


@dataclass(frozen=True)
class Plan:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement a function runs, as its caller."""

    title: str
    roster: int
    caller: str
    lines: list[str]

    def text(self) -> str:
        return f"  {self.title} at {self.roster:,}, as {self.caller}:\n" + "\n".join(
            f"      {line}" for line in self.lines
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "roster": self.roster,
            "caller": self.caller,
            "lines": self.lines,
        }


@dataclass
class Report:
    server: ServerFacts
    rosters: list[Roster]
    seconds: int
    rounds: int
    status_as_coordinator: Runs
    status_as_service: Runs
    paused: list[Runs]
    plans: list[Plan]

    @property
    def status_p99_ratio(self) -> float:
        return self.status_as_coordinator.ratio(self.status_as_service)

    @property
    def paused_p99_growth(self) -> float:
        return self.paused[-1].ratio(self.paused[0])

    def aims(self) -> list[Aim]:
        return [
            Aim(
                "get_current_status p99, as a coordinator / as service_role",
                self.status_p99_ratio,
                STATUS_P99_AIM,
            ),
            Aim(
                f"get_paused_mentors p99 at {self.paused[-1].roster:,} /"
                f" at {self.paused[0].roster:,}",
                self.paused_p99_growth,
                PAUSED_GROWTH_AIM,
            ),
            Aim(
                "get_paused_mentors p99, the highest of every roster",
                max(runs.median_of("p99_us") for runs in self.paused) / 1000,
                PAUSED_P99_AIM_MS,
                unit=" ms",
            ),
        ]

    def text(self) -> str:
        rows = [
            self.status_as_service.row(None),
            self.status_as_coordinator.row(self.status_p99_ratio),
            *(
                runs.row(runs.ratio(self.paused[0]) if runs is not self.paused[0] else None)
                for runs in self.paused
            ),
        ]
        return "\n".join(
            [
                "reads: get_current_status (db/bench/rpc_current_status.sql) and"
                " get_paused_mentors (db/bench/rpc_paused_mentors.sql), as PostgREST runs them",
                f"  {self.server.line()}",
                *(f"  {roster.describe()}" for roster in self.rosters),
                f"  {self.rounds} round(s) of -T {self.seconds} per workload, {CLIENTS} client,"
                " interleaved; medians of rounds",
                "  baselines: get_current_status as service_role (no row-level security),"
                " get_paused_mentors at the smallest roster",
                format_table(("workload", "roster", "TPS", "p50", "p99", "p99 / base"), rows),
                aims_text(self.aims()),
                "plans (EXPLAIN ANALYZE, BUFFERS), as the caller:",
                *(plan.text() for plan in self.plans),
            ]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "reads",
            "server": self.server.as_dict(),
            "rosters": [roster.summary() for roster in self.rosters],
            "seconds": self.seconds,
            "rounds": self.rounds,
            "current_status": {
                "roster": self.status_as_coordinator.roster,
                "service_role": self.status_as_service.as_dict(),
                "coordinator": self.status_as_coordinator.as_dict(),
                "p99_ratio": round(self.status_p99_ratio, 3),
            },
            "paused_mentors": {
                "by_roster": [runs.as_dict() for runs in self.paused],
                "p99_growth": round(self.paused_p99_growth, 3),
            },
            "aims": [aim.as_dict() for aim in self.aims()],
            "plans": [plan.as_dict() for plan in self.plans],
        }


def explain(
    url: str, identity: Identity, path: str, statement: LiteralString, params: dict[str, UUID]
) -> list[str]:
    """The plan of ``statement`` run as ``identity``, in a request as PostgREST sets it up."""
    with (
        psycopg.connect(url) as conn,
        postgrest_request(conn, identity, method="GET", path=path) as cur,
    ):
        return [str(row["QUERY PLAN"]) for row in cur.execute(statement, params)]


def plans(rosters: Sequence[Roster]) -> list[Plan]:
    """The mentor read of get_current_status at the largest roster, as a coordinator and
    as service_role; a coordinator's own listing of get_paused_mentors at every roster."""
    largest = rosters[-1]
    coordinator = largest.coordinators // 2 + 1
    mentor = numbered_id("m", (coordinator - 1) * MENTORS_PER_COORDINATOR + 7)
    as_coordinator = Identity.user(numbered_id("c", coordinator))
    found = [
        Plan(
            "get_current_status, the mentor read",
            largest.mentors,
            caller,
            explain(
                largest.url,
                identity,
                "/rpc/get_current_status",
                query("bench_explain_mentor_read"),
                {"mentor_id": mentor},
            ),
        )
        for caller, identity in (
            ("a coordinator", as_coordinator),
            ("service_role", Identity.service()),
        )
    ]
    for roster in rosters:
        coordinator_id = numbered_id("c", roster.coordinators // 2 + 1)
        # A coordinator's own list is read by mentoring.caller_paused_mentors as the owner:
        # no row-level security, as for service_role.
        found.append(
            Plan(
                "get_paused_mentors, a coordinator's own listing",
                roster.mentors,
                "the owner, as caller_paused_mentors reads it",
                explain(
                    roster.url,
                    Identity.service(),
                    "/rpc/get_paused_mentors",
                    query("bench_explain_paused_mentors"),
                    {"coordinator_id": coordinator_id},
                ),
            )
        )
    return found


def run(
    server: BenchServer,
    settings: Settings,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Seed each roster size, then measure the reads once per round, interleaved."""
    with ExitStack() as stack:
        rosters = []
        for size in settings.rosters:
            progress(f"reads: seeding {size:,} mentors")
            rosters.append(stack.enter_context(server.roster(size)))
            progress(f"  {rosters[-1].describe()}")
        program = server.tool("pgbench")
        largest = rosters[-1]
        status_as_service, status_as_coordinator = (
            Runs(
                f"get_current_status as {caller}",
                largest.mentors,
                Pgbench(program, largest.url),
                CURRENT_STATUS,
                {"role": role, "coordinators": largest.coordinators},
            )
            for role, caller in (("service_role", "service_role"), ("authenticated", "coordinator"))
        )
        paused = [
            Runs(
                "get_paused_mentors as coordinator",
                roster.mentors,
                Pgbench(program, roster.url),
                PAUSED_MENTORS,
                {"coordinators": roster.coordinators},
            )
            for roster in rosters
        ]
        everything = [status_as_service, status_as_coordinator, *paused]
        for runs in everything:
            runs.warm_up()
        for round_number in range(1, settings.rounds + 1):
            for runs in everything:
                runs.measure(settings.seconds)
            progress(
                f"  round {round_number}/{settings.rounds}: "
                + ", ".join(
                    f"{runs.label} at {runs.roster:,} p99 {ms(runs.runs[-1].p99_us)}"
                    for runs in everything
                )
            )
        return Report(
            server.facts(),
            rosters,
            settings.seconds,
            settings.rounds,
            status_as_coordinator,
            status_as_service,
            paused,
            plans(rosters),
        )
