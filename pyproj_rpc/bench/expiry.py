"""What the expiry sweep costs, against the same writes done set-based by hand.

Each roster size gets its own database with about ``lapsed`` lapsed mentors. Per run, in
transactions rolled back, one after the other: the sweep (one batch of
``api.expire_lapsed_certifications`` as service_role, through the state machine); a bare
set-based UPDATE of the lapsed mentors' status, triggers off (the floor); and the sweep's
writes by hand in one statement, triggers off: statuses, pauses closed, status events,
outbox rows (what the state machine should cost at best).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pyproj_rpc import calls, rpc
from pyproj_rpc.bench.cluster import BenchServer, Roster, ServerFacts
from pyproj_rpc.bench.stats import Aim, aims_text, median, times
from pyproj_rpc.errors import PyprojRpcError
from pyproj_rpc.identity import Identity
from pyproj_rpc.queries import query
from pyproj_rpc.text import format_table

SIDES = ("sweep", "bare", "hand")
SIDE_LABELS = {
    "sweep": "sweep: expire_lapsed_certifications",
    "bare": "bare UPDATE, triggers off",
    "hand": "the same writes by hand, triggers off",
}
SWEEP_AIM = 2.0  # sweep / hand


class ExpiryMismatch(PyprojRpcError):
    """A side of the benchmark did not expire the lapsed mentors the roster has."""


@dataclass(frozen=True)
class Settings:
    rosters: tuple[int, ...] = (100_000, 1_000_000)
    lapsed: int = 10_000
    runs: int = 3


QUICK = Settings(rosters=(2_000, 6_000), lapsed=50, runs=1)


@dataclass
class Step:
    """Every run at one roster size: seconds per side."""

    roster: Roster
    seconds: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})

    def median_ms(self, side: str) -> float:
        return median(self.seconds[side]) * 1000

    def ratio(self, side: str, baseline: str) -> float:
        """Median over runs of ``side`` over ``baseline``, run by run."""
        return median(
            [a / b for a, b in zip(self.seconds[side], self.seconds[baseline], strict=True)]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "roster": self.roster.summary(),
            **{
                side: {
                    "median_ms": round(self.median_ms(side), 2),
                    "runs_ms": [round(s * 1000, 2) for s in self.seconds[side]],
                }
                for side in SIDES
            },
            "sweep_over_hand": round(self.ratio("sweep", "hand"), 3),
            "sweep_over_bare": round(self.ratio("sweep", "bare"), 3),
        }


@dataclass
class Report:
    server: ServerFacts
    lapsed: int
    runs: int
    steps: list[Step]

    def aims(self) -> list[Aim]:
        return [
            Aim(
                f"at {step.roster.mentors:,}, the sweep / the same writes by hand",
                step.ratio("sweep", "hand"),
                SWEEP_AIM,
            )
            for step in self.steps
        ]

    def text(self) -> str:
        rows = [
            (
                f"{step.roster.mentors:,}",
                f"{step.roster.lapsed:,}",
                *(f"{step.median_ms(side):.1f} ms" for side in SIDES),
                times(step.ratio("sweep", "hand")),
                times(step.ratio("sweep", "bare")),
            )
            for step in self.steps
        ]
        return "\n".join(
            [
                "expiry: the sweep, against a bare UPDATE and against its writes by hand",
                f"  {self.server.line()}",
                *(f"  {step.roster.describe()}" for step in self.steps),
                f"  {self.runs} run(s) of each, interleaved, each in a transaction rolled back;"
                " medians of runs",
                format_table(
                    (
                        "roster",
                        "lapsed",
                        *(SIDE_LABELS[s] for s in SIDES),
                        "sweep / hand",
                        "sweep / bare",
                    ),
                    rows,
                ),
                aims_text(self.aims()),
            ]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "expiry",
            "server": self.server.as_dict(),
            "lapsed": self.lapsed,
            "runs": self.runs,
            "steps": [step.as_dict() for step in self.steps],
            "aims": [aim.as_dict() for aim in self.aims()],
        }


def timed(conn: psycopg.Connection[Any], side: str, roster: Roster) -> float:
    """One run of ``side`` in a transaction rolled back; the seconds it took."""
    with conn.transaction(force_rollback=True):
        started = time.perf_counter()
        if side == "sweep":
            sweep = calls.expire_lapsed_certifications(roster.lapsed * 2)
            expired = sweep.parse(
                rpc.call(conn, Identity.service(), sweep.function, sweep.arguments)
            )
        else:
            conn.execute(query("bench_skip_triggers"))
            if side == "bare":
                expired = conn.execute(query("bench_expire_bare")).rowcount
            else:
                row = conn.execute(query("bench_expire_by_hand")).fetchone()
                assert row is not None
                expired = row[0]
        elapsed = time.perf_counter() - started
    if expired != roster.lapsed:
        raise ExpiryMismatch(
            f"{SIDE_LABELS[side]} expired {expired} mentors of {roster.name},"
            f" which has {roster.lapsed} lapsed"
        )
    return elapsed


def run(
    server: BenchServer,
    settings: Settings,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """At each roster size, a warm-up then the runs of each side, interleaved."""
    lapsed, runs = settings.lapsed, settings.runs
    steps = []
    for size in settings.rosters:
        progress(f"expiry: seeding {size:,} mentors, about {lapsed:,} lapsed")
        with server.roster(size, lapsed=lapsed) as roster, psycopg.connect(roster.url) as conn:
            progress(f"  {roster.describe()}")
            for side in SIDES:
                timed(conn, side, roster)  # warm-up
            step = Step(roster)
            for run_number in range(1, runs + 1):
                for side in SIDES:
                    step.seconds[side].append(timed(conn, side, roster))
                progress(
                    f"  run {run_number}/{runs}: "
                    + ", ".join(f"{side} {step.seconds[side][-1] * 1000:.1f} ms" for side in SIDES)
                )
            steps.append(step)
    return Report(server.facts(), lapsed, runs, steps)
