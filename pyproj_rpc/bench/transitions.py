"""What the state machine costs per status change, against a bare UPDATE.

Baseline: flip a status in a plain table (no trigger, no RLS), one transaction each.
Measured: pause and lift a mentor through the RPC as their coordinator, exactly as
PostgREST runs it (role and claims set, RLS, the trigger, audit, outbox, NOTIFY), one
transaction each. The two alternate, so that drift in the machine hits both alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from pyproj_rpc import rpc
from pyproj_rpc.bench.stats import Samples, ratio, table
from pyproj_rpc.identity import Identity
from pyproj_rpc.queries import query
from pyproj_rpc.seed import Seeder


@dataclass(frozen=True)
class Report:
    server_version: str
    operations: int
    baseline: Samples
    measured: Samples

    @property
    def ratio(self) -> float:
        return ratio(self.measured, self.baseline)

    def text(self) -> str:
        return (
            f"transitions: PostgreSQL {self.server_version}, {self.operations} operations each,"
            " interleaved, one transaction per operation\n"
            + table([self.baseline, self.measured], self.baseline)
            + f"\n  state machine / bare UPDATE (medians): {self.ratio:.1f}x"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "transitions",
            "server_version": self.server_version,
            "operations": self.operations,
            "baseline": self.baseline.summary(),
            "measured": self.measured.summary(),
            "ratio_of_medians": round(self.ratio, 2),
        }


def run(url: str, operations: int = 500, warmup: int = 20) -> Report:
    """Measure ``operations`` status changes each way (after ``warmup`` of each)."""
    with psycopg.connect(url) as conn:
        seed = Seeder(conn)
        org_id = seed.organization(f"benchmark {uuid.uuid4().hex[:8]}")
        coordinator_id = seed.user()
        seed.staff(org_id, coordinator_id, "coordinator")
        mentor_id = seed.mentor(org_id, "Benchmark mentor")
        seed.assign(mentor_id, coordinator_id)
        plain_id = uuid.uuid4()
        conn.execute(query("bench_baseline_table"))
        conn.execute(query("bench_baseline_row"), {"id": plain_id})
        conn.commit()

        coordinator = Identity.user(coordinator_id)
        paused = False

        def flip_plain() -> None:
            conn.execute(query("bench_baseline_flip"), {"id": plain_id})
            conn.commit()

        def flip_mentor() -> None:
            nonlocal paused
            if paused:
                rpc.call(
                    conn,
                    coordinator,
                    "lift_pause",
                    {"mentor_id": mentor_id, "reason": None, "idempotency_key": None},
                )
            else:
                rpc.call(
                    conn,
                    coordinator,
                    "activate_pause",
                    {
                        "mentor_id": mentor_id,
                        "reason": "benchmark",
                        "expected_return_date": None,
                        "force": False,
                        "idempotency_key": None,
                    },
                )
            paused = not paused

        for _ in range(warmup):
            flip_plain()
            flip_mentor()
        baseline = Samples("baseline: bare UPDATE of a status + COMMIT")
        measured = Samples("rpc: activate_pause/lift_pause as coordinator")
        for _ in range(operations):
            baseline.time(flip_plain)
            measured.time(flip_mentor)
        version = (
            str(conn.info.server_version // 10000) + "." + str(conn.info.server_version % 10000)
        )
    return Report(version, operations, baseline, measured)
