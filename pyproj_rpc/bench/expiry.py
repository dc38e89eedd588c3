"""What the expiry sweep costs as the roster grows, with a fixed number of lapsed mentors.

Baseline: finding the lapsed mentors by reading every active mentor's certifications.
Measured: one batch of ``api.expire_lapsed_certifications`` as the service (finding them
through ``mentors.certified_through`` and expiring them through the state machine).
Both run in transactions rolled back afterwards, alternating, at two roster sizes: the
baseline grows with the roster, the sweep with the lapsed mentors only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pyproj_rpc import calls, rpc
from pyproj_rpc.bench.stats import Samples
from pyproj_rpc.identity import Identity
from pyproj_rpc.queries import query
from pyproj_rpc.seed import Seeder
from pyproj_rpc.text import format_table


@dataclass
class Step:
    roster: int
    baseline: Samples
    measured: Samples


@dataclass
class Report:
    lapsed: int
    runs: int
    steps: list[Step] = field(default_factory=list)

    def growth(self, side: str) -> float:
        first, last = self.steps[0], self.steps[-1]
        before: Samples = getattr(first, side)
        after: Samples = getattr(last, side)
        return after.median_us / before.median_us

    def text(self) -> str:
        rows = [
            (
                step.roster,
                f"{step.baseline.median_us / 1000:.2f} ms",
                f"{step.measured.median_us / 1000:.2f} ms",
                f"{step.baseline.median_us / step.measured.median_us:.1f}x",
            )
            for step in self.steps
        ]
        first, last = self.steps[0].roster, self.steps[-1].roster
        return (
            f"expiry sweep: {self.lapsed} lapsed mentors, medians of {self.runs} runs each,"
            " rolled back\n"
            + format_table(
                ("roster", "baseline: scan every mentor", "sweep: indexed batch", "ratio"), rows
            )
            + f"\n  roster x{last / first:.0f}: baseline x{self.growth('baseline'):.1f},"
            f" sweep x{self.growth('measured'):.1f}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "expiry",
            "lapsed": self.lapsed,
            "runs": self.runs,
            "steps": [
                {
                    "roster": s.roster,
                    "baseline": s.baseline.summary(),
                    "measured": s.measured.summary(),
                }
                for s in self.steps
            ],
            "baseline_growth": round(self.growth("baseline"), 2),
            "sweep_growth": round(self.growth("measured"), 2),
        }


def run(
    url: str, rosters: tuple[int, ...] = (2_000, 20_000), lapsed: int = 50, runs: int = 11
) -> Report:
    """Grow the roster through ``rosters`` (``lapsed`` of them lapsed) and time both."""
    report = Report(lapsed, runs)
    sweep = calls.expire_lapsed_certifications(max(lapsed, 1) * 2)
    with psycopg.connect(url) as conn:
        org = Seeder(conn).organization(f"expiry benchmark {uuid.uuid4().hex[:8]}")
        size = 0
        for roster in rosters:
            conn.execute(query("bench_roster"), {"organization_id": org, "count": roster - size})
            conn.commit()  # new active mentors must be certified when they commit
            if size == 0:
                conn.execute(query("bench_lapse_some"), {"organization_id": org, "count": lapsed})
                conn.commit()
            size = roster
            conn.execute("analyze mentoring.mentors")
            conn.execute("analyze mentoring.certifications")
            conn.commit()
            step = Step(roster, Samples("baseline"), Samples("sweep"))

            def naive() -> None:
                with conn.transaction(force_rollback=True):
                    conn.execute(query("bench_naive_lapsed")).fetchone()

            def swept() -> None:
                with conn.transaction(force_rollback=True):
                    expired = sweep.parse(
                        rpc.call(conn, Identity.service(), sweep.function, sweep.arguments)
                    )
                    assert expired == lapsed, (expired, lapsed)

            for _ in range(runs):
                step.baseline.time(naive)
                step.measured.time(swept)
            report.steps.append(step)
    return report
