"""What a status change through the RPC costs, against pgbench's simple-update.

One database: a seeded roster plus pgbench's tables. Per round and client count, in this
order: the baseline, ``pgbench -b simple-update -T seconds``; the RPC,
``db/bench/rpc_transition.sql`` (a coordinator pausing then lifting their mentors, as
PostgREST runs it: role, claims, RLS, the state machine, audit, outbox, NOTIFY); and the
same while a side connection holds the relay's awake lock, as a draining relay does
(writers then skip their NOTIFY). And the floor: the same status changes' writes by hand
(``db/bench/hand_transition.sql``: the mentor, the pause, the chained event, the outbox
rows and the wake-up, with no RPC, policy, rule or trigger), so that the RPC's cost can be
told from the cost of what it must write. The RPC and the writes by hand run a fixed,
even number of transactions per client (every pause is lifted again), each calibrated to
last about as long as the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pyproj_rpc.bench.cluster import MENTORS_PER_COORDINATOR, BenchServer, Roster, ServerFacts
from pyproj_rpc.bench.pgbench import Pgbench, PgbenchResult, Workload
from pyproj_rpc.bench.stats import Aim, aims_text, median, ms, times
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import query
from pyproj_rpc.text import format_table

BASELINE = Workload.pgbench_builtin("simple-update")
TRANSITION = Workload.script("rpc_transition.sql")
BY_HAND = Workload.script("hand_transition.sql", triggers_off=True)
BASELINE_NOTIFYING = Workload.script("simple_update_notify.sql")
BASELINE_WAKING = Workload.script("simple_update_wake.sql")
MENTORS_PER_CLIENT = 160  # rpc_transition.sql cycles through 160 mentors per client
CALIBRATION_TRANSACTIONS = 40  # per client, even
WARM_UP_TRANSACTIONS = 200
SIDES = (
    "baseline",
    "baseline_notifying",
    "baseline_waking_relay_draining",
    "by_hand",
    "rpc",
    "rpc_relay_draining",
)
SIDE_LABELS = {
    "baseline": "baseline: pgbench simple-update",
    "baseline_notifying": "simple-update + NOTIFY",
    "baseline_waking_relay_draining": "simple-update + wake-up, relay draining",
    "by_hand": "pause/lift's writes by hand, notifying",
    "rpc": "RPC pause/lift, notifying",
    "rpc_relay_draining": "RPC pause/lift, relay draining",
}
RPC_SIDES = ("rpc", "rpc_relay_draining")
TPS_AIM_CLIENTS, TPS_AIM = 8, 0.5
LATENCY_AIM_CLIENTS, LATENCY_AIM = 1, 4.0


@dataclass(frozen=True)
class Settings:
    clients: tuple[int, ...] = (1, 8, 32)
    roster: int = 10_000
    seconds: int = 10
    rounds: int = 3


QUICK = Settings(clients=(1, 2), roster=2_000, seconds=2, rounds=1)


def max_clients(roster: int) -> int:
    """Each client acts as its own coordinator, on that coordinator's mentors."""
    return roster // MENTORS_PER_COORDINATOR


def even_transactions(seconds: float, rate_per_client: float) -> int:
    """About ``seconds`` worth of transactions per client, even (a pause, then its lift)."""
    return max(2, 2 * round(seconds * rate_per_client / 2))


@dataclass
class ClientRuns:
    """Every run at one client count, one per round on each side."""

    clients: int
    transactions_per_client: int
    by_hand_transactions_per_client: int
    runs: dict[str, list[PgbenchResult]] = field(
        default_factory=lambda: {side: [] for side in SIDES}
    )

    def median_of(self, side: str, figure: str) -> float:
        return median([getattr(run, figure) for run in self.runs[side]])

    def ratio(self, side: str, figure: str) -> float:
        """Median over rounds of this side's figure over the baseline's, round by round."""
        return median(
            [
                getattr(measured, figure) / getattr(baseline, figure)
                for measured, baseline in zip(self.runs[side], self.runs["baseline"], strict=True)
            ]
        )

    def rpc_over_by_hand(self) -> float:
        """Median over rounds of the RPC's TPS over the same writes' by hand."""
        return median(
            [
                rpc.tps / hand.tps
                for rpc, hand in zip(self.runs["rpc"], self.runs["by_hand"], strict=True)
            ]
        )

    def side_dict(self, side: str) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "tps": round(self.median_of(side, "tps"), 1),
            "p50_ms": round(self.median_of(side, "p50_us") / 1000, 3),
            "p99_ms": round(self.median_of(side, "p99_us") / 1000, 3),
            "rounds": [run.summary() for run in self.runs[side]],
        }
        if side != "baseline":
            summary["tps_ratio"] = round(self.ratio(side, "tps"), 3)
            summary["p50_ratio"] = round(self.ratio(side, "p50_us"), 3)
        return summary


@dataclass
class Report:
    server: ServerFacts
    roster: Roster
    seconds: int
    rounds: int
    results: list[ClientRuns]

    def at(self, clients: int) -> ClientRuns | None:
        return next((r for r in self.results if r.clients == clients), None)

    def aims(self) -> list[Aim]:
        aims = []
        tps_at, latency_at = self.at(TPS_AIM_CLIENTS), self.at(LATENCY_AIM_CLIENTS)
        for side in RPC_SIDES:
            label = SIDE_LABELS[side].removeprefix("RPC pause/lift, ")
            aims.append(
                Aim(
                    f"at {TPS_AIM_CLIENTS} clients, RPC TPS / simple-update TPS ({label})",
                    tps_at.ratio(side, "tps") if tps_at else None,
                    TPS_AIM,
                    at_most=False,
                )
            )
            aims.append(
                Aim(
                    f"at {LATENCY_AIM_CLIENTS} client, RPC p50 / simple-update p50 ({label})",
                    latency_at.ratio(side, "p50_us") if latency_at else None,
                    LATENCY_AIM,
                )
            )
        return aims

    def text(self) -> str:
        rows = []
        for result in self.results:
            for side in SIDES:
                measured = side != "baseline"
                rows.append(
                    (
                        result.clients,
                        SIDE_LABELS[side],
                        f"{result.median_of(side, 'tps'):.0f}",
                        ms(result.median_of(side, "p50_us")),
                        ms(result.median_of(side, "p99_us")),
                        times(result.ratio(side, "tps")) if measured else "",
                        times(result.ratio(side, "p50_us")) if measured else "",
                    )
                )
        calibrated = ", ".join(
            f"{r.transactions_per_client} ({r.by_hand_transactions_per_client} by hand)"
            f" at {r.clients}"
            for r in self.results
        )
        floor = ", ".join(
            f"{times(r.rpc_over_by_hand())} at {r.clients} client(s)" for r in self.results
        )
        return "\n".join(
            [
                "transitions: a status change through the RPC (db/bench/rpc_transition.sql)"
                " against pgbench's simple-update; and what a wake-up costs a cheap write"
                " (simple-update + NOTIFY, + the state machine's wake-up while a relay"
                " drains)",
                f"  {self.server.line()}",
                f"  {self.roster.describe()}",
                f"  {self.rounds} round(s), interleaved: simple-update -T {self.seconds};"
                f" RPC -t per client calibrated to about {self.seconds} s ({calibrated});"
                " medians of rounds",
                format_table(
                    ("clients", "workload", "TPS", "p50", "p99", "TPS / base", "p50 / base"),
                    rows,
                ),
                f"  RPC TPS / the same writes by hand: {floor}",
                aims_text(self.aims()),
            ]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "transitions",
            "server": self.server.as_dict(),
            "roster": self.roster.summary(),
            "seconds": self.seconds,
            "rounds": self.rounds,
            "results": [
                {
                    "clients": r.clients,
                    "transactions_per_client": r.transactions_per_client,
                    "by_hand_transactions_per_client": r.by_hand_transactions_per_client,
                    "rpc_over_by_hand_tps": round(r.rpc_over_by_hand(), 3),
                    **{side: r.side_dict(side) for side in SIDES},
                }
                for r in self.results
            ],
            "aims": [aim.as_dict() for aim in self.aims()],
        }


class Transitions:
    """rpc_transition.sql (or its writes by hand) on one database, each run from a fresh
    even offset ``i``."""

    def __init__(self, pgbench: Pgbench, seconds: int) -> None:
        self.pgbench = pgbench
        self.seconds = seconds
        self.next_offset = 0

    def run(self, clients: int, per_client: int, workload: Workload = TRANSITION) -> PgbenchResult:
        offset = self.next_offset
        # past this run's transactions, then half a cycle further: runs start apart
        self.next_offset += per_client + MENTORS_PER_CLIENT
        return self.pgbench.run(
            workload,
            clients,
            transactions=per_client,
            variables={"i": offset},
            expected_seconds=self.seconds * 4,
        )

    def calibrate(self, clients: int, workload: Workload = TRANSITION) -> int:
        """Transactions per client for about ``seconds``: a short warm-up run, then one
        of about a second (or ``seconds`` if shorter) to measure the rate."""
        warm_up = self.run(clients, CALIBRATION_TRANSACTIONS, workload)
        trial = self.run(
            clients, even_transactions(min(self.seconds, 1), warm_up.tps / clients), workload
        )
        return even_transactions(self.seconds, trial.tps / clients)


@contextmanager
def relay_draining(url: str) -> Iterator[None]:
    """Hold the awake lock on a side connection, as a relay does while it drains."""
    with psycopg.connect(url, autocommit=True) as side:
        side.execute(query("bench_hold_relay_awake_lock"))
        try:
            yield
        finally:
            side.execute(query("bench_release_relay_awake_lock"))


def run(
    server: BenchServer,
    settings: Settings,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Seed the roster, then measure each client count once per round."""
    clients, roster_size = settings.clients, settings.roster
    seconds, rounds = settings.seconds, settings.rounds
    if max(clients) > max_clients(roster_size):
        raise ConfigurationError(
            f"{max(clients)} clients need a roster of at least"
            f" {max(clients) * MENTORS_PER_COORDINATOR} (one coordinator's mentors each)"
        )
    progress(f"transitions: seeding {roster_size:,} mentors")
    with server.roster(roster_size) as roster:
        progress(f"  {roster.describe()}")
        pgbench = Pgbench(server.tool("pgbench"), roster.url)
        pgbench.initialize()
        pgbench.run(BASELINE, 1, transactions=WARM_UP_TRANSACTIONS)  # untimed
        transitions = Transitions(pgbench, seconds)
        results = []
        for count in clients:
            per_client = transitions.calibrate(count)
            by_hand = transitions.calibrate(count, BY_HAND)
            progress(f"  clients={count}: -t {per_client} per client ({by_hand} by hand)")
            results.append(ClientRuns(count, per_client, by_hand))
        for round_number in range(1, rounds + 1):
            for result in results:
                runs = result.runs
                runs["baseline"].append(pgbench.run(BASELINE, result.clients, seconds=seconds))
                runs["baseline_notifying"].append(
                    pgbench.run(BASELINE_NOTIFYING, result.clients, seconds=seconds)
                )
                with relay_draining(roster.url):
                    runs["baseline_waking_relay_draining"].append(
                        pgbench.run(BASELINE_WAKING, result.clients, seconds=seconds)
                    )
                runs["by_hand"].append(
                    transitions.run(result.clients, result.by_hand_transactions_per_client, BY_HAND)
                )
                runs["rpc"].append(transitions.run(result.clients, result.transactions_per_client))
                with relay_draining(roster.url):
                    runs["rpc_relay_draining"].append(
                        transitions.run(result.clients, result.transactions_per_client)
                    )
                progress(
                    f"  round {round_number}/{rounds}, clients={result.clients}: "
                    + ", ".join(f"{side} {runs[side][-1].tps:.0f} tps" for side in SIDES)
                )
        return Report(server.facts(), roster, seconds, rounds, results)
