"""The relay: how fast it drains a backlog, and how soon a change reaches a webhook.

One seeded roster (``db/bench/roster.sql``), two parts.

**Drain.** A backlog of ``rows`` notifications, written through the state machine in a few
set-based statements (each organization's admin pauses its share of the mentors: one
outbox row per mentor, for its coordinator). Before each run the backlog is pending again
(``bench_outbox_reset``) and the outbox vacuumed and analyzed. Per round, interleaved:

- the **SQL loop**, the database's own limit for the same work: one autocommit connection
  calling ``claim_outbox(<the relay's batch size>, '1 minute')`` then
  ``outbox_delivered(ids)`` until nothing is due;
- the **relay** with a no-op async sink, ``Relay(...).run(once=True)`` with the relay's
  default batch size and concurrency (``RelayConfig()``);
- the same relay to a signed webhook (``WebhookSink``) on a loopback receiver answering
  204 (the receiver below).

**Commit → receipt latency.** After a ``vacuum analyze`` of the database (no autovacuum
of the drain's rows during the measures), a real relay process (``pyproj-rpc relay
--webhook-url``, every setting at its default: the poll interval too, so that wake-ups
come from NOTIFY or from the relay draining) delivers to a loopback receiver, in a
process of its own, that notes each request's arrival (``time.time()``) and its
``webhook-id``. Writers, one connection each, change statuses through the RPC as
PostgREST runs it (mentors pausing themselves, then lifting their pause: each change
notifies their coordinator) at a steady rate for ``seconds``, each rate after a vacuum
of the outbox. A row's latency is its arrival minus the commit timestamp of the
transaction that wrote it (``pg_xact_commit_timestamp`` of its status event's ``xmin``:
the outbox row itself is updated by every claim, so its ``xmin`` is the relay's), on
the same machine's clock. Needs ``track_commit_timestamp = on`` (the throwaway cluster
has it); without it the row's insert time (``created_at``, a little before the commit)
stands in, and the report says so.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import psycopg

from pyproj_rpc import calls, rpc
from pyproj_rpc.api_errors import PauseManagementError
from pyproj_rpc.bench.cluster import (
    MENTORS_PER_COORDINATOR,
    BenchServer,
    Roster,
    ServerFacts,
    numbered_id,
    organizations_for,
)
from pyproj_rpc.bench.stats import Aim, aims_text, median, percentile, times
from pyproj_rpc.errors import PyprojRpcError
from pyproj_rpc.identity import Identity, postgrest_request
from pyproj_rpc.queries import query
from pyproj_rpc.relay import Relay, RelayConfig, Sink, SinkResult, WebhookSecret
from pyproj_rpc.relay.messages import WEBHOOK_ID_PREFIX, OutboxMessage
from pyproj_rpc.relay.webhook import WebhookSink
from pyproj_rpc.text import format_table

DRAIN_RATE_AIM = 5_000.0  # rows/s, one relay, no-op sink
DRAIN_RATIO_AIM = 0.5  # relay / SQL loop
LATENCY_P99_AIM_MS = 25.0  # commit -> webhook receipt, at the highest sustained rate

ACTIVE_PER_COORDINATOR = 180  # roster.sql pauses n % 10 = 0: 180 of each 200 are active
WRITER_COORDINATORS = 8  # the most writers; each acts as a coordinator of its own
RATE_PER_WRITER = 150  # writes/s one writer connection is asked for, at most
SUSTAINED_SHARE = 0.95  # of the target rate, achieved
# Seconds after the writers stop by which every row must have arrived for the relay to
# have kept up: a backlog that grew during the run takes longer than that to clear.
CAUGHT_UP_WITHIN = 0.25
SIDES = ("sql_loop", "relay_noop", "relay_webhook")
SIDE_LABELS = {
    "sql_loop": "SQL loop: claim_outbox + outbox_delivered",
    "relay_noop": "relay, no-op sink",
    "relay_webhook": "relay, signed webhook to a loopback receiver",
}
RELAY_START_TIMEOUT = 30.0
RELAY_STOP_TIMEOUT = 20.0
WARM_UP_WRITES = 20
STALLED_AFTER = 10.0  # seconds without an arrival: the rows still missing are lost
POLL = 0.05
LOG_TAIL_LINES = 20


class RelayBenchFailed(PyprojRpcError):
    """A part of the relay benchmark did not do what it must (a row lost, a relay died)."""


@dataclass(frozen=True)
class Settings:
    rows: int = 20_000
    rounds: int = 3
    rates: tuple[int, ...] = (100, 200, 300, 400, 500, 600, 700, 800, 1000)
    seconds: int = 10


QUICK = Settings(rows=1_000, rounds=1, rates=(50, 200), seconds=2)


def backlog_coordinators(rows: int) -> int:
    """Coordinators whose active mentors make up a backlog of ``rows``."""
    return max(1, math.ceil(rows / ACTIVE_PER_COORDINATOR))


def roster_size(rows: int) -> int:
    """Mentors to seed: the backlog's coordinators, then one more for each writer."""
    return (backlog_coordinators(rows) + WRITER_COORDINATORS) * MENTORS_PER_COORDINATOR


def writers_for(rate: int) -> int:
    """Writer connections for a rate: enough that none is asked for more than it can do."""
    return min(WRITER_COORDINATORS, max(1, math.ceil(rate / RATE_PER_WRITER)))


def active_mentors(coordinator: int) -> list[int]:
    """Numbers of a coordinator's active mentors (roster.sql: n % 10 = 0 is paused)."""
    first = (coordinator - 1) * MENTORS_PER_COORDINATOR + 1
    return [n for n in range(first, first + MENTORS_PER_COORDINATOR) if n % 10 != 0]


def backlog_mentors(rows: int, organizations: int) -> dict[int, list[UUID]]:
    """The first ``rows`` active mentors, by organization (roster.sql's numbering)."""
    by_organization: dict[int, list[UUID]] = {}
    chosen = 0
    for coordinator in range(1, backlog_coordinators(rows) + 1):
        organization = (coordinator - 1) % organizations + 1
        for n in active_mentors(coordinator)[: rows - chosen]:
            by_organization.setdefault(organization, []).append(numbered_id("m", n))
            chosen += 1
    return by_organization


# -- the report ------------------------------------------------------------------------------


@dataclass
class Drain:
    """Every drain run: seconds per side, one per round."""

    rows: int
    rounds: int
    batch_size: int
    concurrency: int
    seconds: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})

    def rate(self, side: str) -> float:
        """Rows per second: of the median run."""
        return self.rows / median(self.seconds[side])

    def ratio(self, side: str, baseline: str) -> float:
        """Median over rounds of this side's rows/s over the baseline's, round by round."""
        return median(
            [b / s for s, b in zip(self.seconds[side], self.seconds[baseline], strict=True)]
        )

    def as_dict(self) -> dict[str, Any]:
        sides: dict[str, Any] = {
            side: {
                "rows_per_second": round(self.rate(side), 1),
                "rounds_seconds": [round(s, 4) for s in self.seconds[side]],
            }
            for side in SIDES
        }
        sides["relay_noop"]["ratio_to_sql_loop"] = round(self.ratio("relay_noop", "sql_loop"), 3)
        sides["relay_webhook"]["ratio_to_sql_loop"] = round(
            self.ratio("relay_webhook", "sql_loop"), 3
        )
        sides["relay_webhook"]["ratio_to_noop"] = round(
            self.ratio("relay_webhook", "relay_noop"), 3
        )
        return {
            "rows": self.rows,
            "rounds": self.rounds,
            "batch_size": self.batch_size,
            "concurrency": self.concurrency,
            **sides,
        }


@dataclass(frozen=True)
class RateRun:
    """Steady writes at one rate, and when each of their notifications arrived."""

    target: int
    writers: int
    seconds: float  # the writing window, as it took
    writes: int
    failures: int
    rows: int  # outbox rows the writes made
    latencies_ms: list[float]  # of the rows received
    backlog_at_end: int  # rows not yet delivered when the writers stopped
    caught_up_seconds: float | None  # from the writers' stop to the last arrival; None: missing

    @property
    def achieved(self) -> float:
        return self.writes / self.seconds if self.seconds > 0 else 0.0

    @property
    def missing(self) -> int:
        return self.rows - len(self.latencies_ms)

    @property
    def kept_up(self) -> bool:
        """Every row arrived, the last within CAUGHT_UP_WITHIN of the writers' stop."""
        return (
            self.missing == 0
            and self.caught_up_seconds is not None
            and self.caught_up_seconds <= CAUGHT_UP_WITHIN
        )

    @property
    def sustained(self) -> bool:
        """The writers kept the rate, and the relay kept up with them."""
        return self.kept_up and self.achieved >= SUSTAINED_SHARE * self.target

    def p(self, fraction: float) -> float | None:
        return percentile(self.latencies_ms, fraction) if self.latencies_ms else None

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "target_per_second": self.target,
            "achieved_per_second": round(self.achieved, 1),
            "writers": self.writers,
            "writes": self.writes,
            "failures": self.failures,
            "rows": self.rows,
            "received": len(self.latencies_ms),
            "p50_ms": rounded(self.p(0.50)),
            "p99_ms": rounded(self.p(0.99)),
            "max_ms": rounded(max(self.latencies_ms) if self.latencies_ms else None),
            "backlog_at_end": self.backlog_at_end,
            "caught_up_seconds": rounded(self.caught_up_seconds),
            "kept_up": self.kept_up,
            "sustained": self.sustained,
        }


@dataclass
class Latency:
    """Every rate of the latency part."""

    seconds: int
    clock: str  # "commit": pg_xact_commit_timestamp; "insert": created_at (no commit times)
    poll_interval: float
    runs: list[RateRun] = field(default_factory=list)

    @property
    def highest_sustained(self) -> RateRun | None:
        sustained = [run for run in self.runs if run.sustained]
        return max(sustained, key=lambda run: run.target) if sustained else None

    @property
    def highest_within_aim(self) -> RateRun | None:
        """The highest sustained rate whose p99 meets the aim."""
        good = [
            run
            for run in self.runs
            if run.sustained and (run.p(0.99) or math.inf) <= LATENCY_P99_AIM_MS
        ]
        return max(good, key=lambda run: run.target) if good else None

    def as_dict(self) -> dict[str, Any]:
        top, within = self.highest_sustained, self.highest_within_aim
        return {
            "seconds": self.seconds,
            "clock": self.clock,
            "poll_interval": self.poll_interval,
            "rates": [run.as_dict() for run in self.runs],
            "highest_sustained_rate": top.target if top else None,
            "highest_rate_p99_within_aim": within.target if within else None,
        }


@dataclass
class Report:
    server: ServerFacts
    roster: Roster
    backlog_seconds: float
    drain: Drain
    latency: Latency
    load_before: float  # the machine's 1-minute load average as the benchmark started

    def aims(self) -> list[Aim]:
        top = self.latency.highest_sustained
        at = f"at {top.target}/s, the highest sustained rate" if top else "at a sustained rate"
        clock = "commit" if self.latency.clock == "commit" else "insert (no commit timestamps)"
        return [
            Aim(
                f"drain, one relay, no-op sink, {self.drain.rows:,} rows: rows/s",
                self.drain.rate("relay_noop"),
                DRAIN_RATE_AIM,
                at_most=False,
                unit=" rows/s",
            ),
            Aim(
                "drain: relay (no-op sink) / SQL loop, the same batch size",
                self.drain.ratio("relay_noop", "sql_loop"),
                DRAIN_RATIO_AIM,
                at_most=False,
            ),
            Aim(
                f"{clock} -> webhook receipt p99, {at}",
                top.p(0.99) if top else None,
                LATENCY_P99_AIM_MS,
                unit=" ms",
            ),
        ]

    def text(self) -> str:
        drain, latency = self.drain, self.latency
        drain_rows = [
            (
                SIDE_LABELS[side],
                f"{drain.rate(side):,.0f}",
                f"{median(drain.seconds[side]):.2f} s",
                "" if side == "sql_loop" else times(drain.ratio(side, "sql_loop")),
            )
            for side in SIDES
        ]
        latency_rows = [
            (
                run.target,
                f"{run.achieved:.0f}",
                run.writers,
                f"{len(run.latencies_ms)}/{run.rows}",
                ms_or_dash(run.p(0.50)),
                ms_or_dash(run.p(0.99)),
                ms_or_dash(max(run.latencies_ms) if run.latencies_ms else None),
                run.backlog_at_end,
                "-" if run.caught_up_seconds is None else f"{run.caught_up_seconds:.2f} s",
                "yes" if run.sustained else "no",
            )
            for run in latency.runs
        ]
        top, within = latency.highest_sustained, latency.highest_within_aim
        if latency.clock == "commit":
            clock = "the server's commit timestamp (track_commit_timestamp)"
        else:
            clock = (
                "the row's insert time: track_commit_timestamp is OFF on this server, so"
                " commit times are unknown (the insert is a little before the commit)"
            )
        failures = sum(run.failures for run in latency.runs)
        return "\n".join(
            [
                "relay: draining a backlog against the SQL loop; commit -> webhook receipt"
                " latency at steady write rates",
                f"  {self.server.line()}",
                f"  {self.roster.describe()}; a backlog of {drain.rows:,} rows written through"
                f" the state machine in {self.backlog_seconds:.1f} s",
                f"  the relay's defaults: batch size {drain.batch_size}, concurrency"
                f" {drain.concurrency}, poll interval {latency.poll_interval:g}s; load average"
                f" before the run {self.load_before:.2f} on {os.cpu_count()} CPUs",
                "",
                f"drain: {drain.rows:,} rows, {drain.rounds} round(s) interleaved; before each"
                " run the backlog is pending again and the outbox vacuumed; medians of rounds",
                format_table(("workload", "rows/s", "seconds", "/ SQL loop"), drain_rows),
                "  webhook / no-op (rows/s, median of rounds):"
                f" {times(drain.ratio('relay_webhook', 'relay_noop'))}",
                "",
                f"latency: a relay process (pyproj-rpc relay, defaults) to a loopback receiver;"
                f" mentors pausing and lifting through the RPC, {latency.seconds} s per rate",
                f"  from {clock} to the receiver's clock",
                format_table(
                    (
                        "target/s",
                        "achieved/s",
                        "writers",
                        "received",
                        "p50",
                        "p99",
                        "max",
                        "backlog at end",
                        "caught up in",
                        "sustained",
                    ),
                    latency_rows,
                ),
                "  sustained: the writers kept 95% of the rate and every row arrived within"
                f" {CAUGHT_UP_WITHIN:g} s of their stop",
                f"  highest sustained rate: {f'{top.target}/s' if top else 'none'};"
                f" highest with p99 <= {LATENCY_P99_AIM_MS:g} ms:"
                f" {f'{within.target}/s' if within else 'none'}"
                + (f"; {failures} write(s) refused" if failures else ""),
                aims_text(self.aims()),
            ]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "relay",
            "server": self.server.as_dict(),
            "roster": self.roster.summary(),
            "backlog_seconds": round(self.backlog_seconds, 2),
            "load_before": round(self.load_before, 2),
            "cpus": os.cpu_count(),
            "drain": self.drain.as_dict(),
            "latency": self.latency.as_dict(),
            "aims": [aim.as_dict() for aim in self.aims()],
        }


def ms_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


# -- the receiver: its own process, so that arrivals are noted at once -----------------------


NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
HEADERS_END = b"\r\n\r\n"
LISTEN_BACKLOG = 128  # every connection the relay opens at once, and more


class Arrivals:
    """(arrival, outbox id) of each request, shared by the server's loop and the control."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[tuple[float, int]] = []

    def add(self, arrived: float, hook_id: str) -> None:
        if hook_id.startswith(WEBHOOK_ID_PREFIX):
            with self.lock:
                self.records.append((arrived, int(hook_id.removeprefix(WEBHOOK_ID_PREFIX))))

    def take(self) -> list[tuple[float, int]]:
        with self.lock:
            taken, self.records = self.records, []
        return taken


async def _answer(
    arrivals: Arrivals, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One keep-alive connection: each request read whole, noted, answered 204."""
    try:
        while True:
            head = await reader.readuntil(HEADERS_END)
            length, hook_id = 0, ""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    hook_id = value.strip().decode()
            if length:
                await reader.readexactly(length)
            arrivals.add(time.time(), hook_id)
            writer.write(NO_CONTENT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


def _serve(arrivals: Arrivals, port: queue.SimpleQueue[int]) -> None:
    async def serve() -> None:
        server = await asyncio.start_server(
            lambda r, w: _answer(arrivals, r, w), "127.0.0.1", 0, backlog=LISTEN_BACKLOG
        )
        port.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def receive() -> None:
    """The receiver process: an HTTP/1.1 server answering 204 to every POST, noting when
    each request arrived (once read whole) and its ``webhook-id``. It prints its port,
    then answers each ``take`` line on stdin with the arrivals since the last one (a JSON
    line of [arrival, outbox id]); it ends with stdin.

    asyncio on one thread, not http.server's ThreadingHTTPServer: with the relay's 16
    keep-alive connections, 16 threads contend for the GIL and the receiver, not the relay,
    sets the pace (about 400 requests/s on 2 cores), and notes arrivals late.
    """
    arrivals = Arrivals()
    port: queue.SimpleQueue[int] = queue.SimpleQueue()
    threading.Thread(target=_serve, args=(arrivals, port), daemon=True).start()
    print(port.get(), flush=True)
    for line in sys.stdin:
        if line.strip() == "take":
            print(json.dumps(arrivals.take()), flush=True)


class Receiver:
    """The receiver, in a process of its own (its clock readings wait for no other work),
    and what arrived there."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from pyproj_rpc.bench.relay import receive; receive()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        port = self._stdout.readline().strip()
        if not port.isdigit():
            self.close()
            raise RelayBenchFailed("the webhook receiver did not start")
        self.url = f"http://127.0.0.1:{port}/hook"

    def take(self) -> list[tuple[float, int]]:
        """(arrival, outbox id) of every request since the last take."""
        self._stdin.write("take\n")
        self._stdin.flush()
        line = self._stdout.readline()
        if not line:
            raise RelayBenchFailed("the webhook receiver is gone")
        return [(float(arrived), int(outbox_id)) for arrived, outbox_id in json.loads(line)]

    def close(self) -> None:
        with suppress(OSError):
            self._stdin.close()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stdout.close()


# -- the drain -------------------------------------------------------------------------------


class NoOpSink(Sink):
    """Accepts every row at once, on the event loop (FunctionSink would use a thread)."""

    name = "no-op"

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        return SinkResult.accepted()


def write_backlog(roster: Roster, rows: int) -> float:
    """``rows`` outbox rows through the state machine: each organization's admin pauses
    its share of the first active mentors, in one statement. Seconds it took."""
    organizations = organizations_for(roster.mentors)
    started = time.perf_counter()
    with psycopg.connect(roster.url) as conn:
        for organization, mentors in backlog_mentors(rows, organizations).items():
            admin = Identity.user(numbered_id("a", organization))
            with postgrest_request(conn, admin, path="/mentors") as cur:
                cur.execute(query("bench_relay_backlog_request"))
                cur.execute(query("bench_relay_backlog_pause"), {"mentor_ids": mentors})
    seconds = time.perf_counter() - started
    with psycopg.connect(roster.url, autocommit=True) as conn:
        row = conn.execute(query("bench_relay_pending")).fetchone()
    if row is None or row[0] != rows:
        raise RelayBenchFailed(f"the backlog has {row and row[0]} pending rows, not {rows}")
    return seconds


def reset_backlog(url: str) -> None:
    """Every row pending again, the outbox vacuumed and analyzed (a sane claim plan)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(query("bench_outbox_reset"))
        conn.execute(query("bench_relay_vacuum_outbox"))


def sql_loop(url: str, batch_size: int) -> tuple[float, int]:
    """Claim and mark delivered, batch after batch, until nothing is due: (seconds, rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        done = 0
        while True:
            claimed = conn.execute(query("bench_relay_claim"), {"batch_size": batch_size})
            ids = [row[0] for row in claimed.fetchall()]
            if not ids:
                break
            conn.execute(query("bench_relay_delivered"), {"ids": ids})
            done += len(ids)
        return time.perf_counter() - started, done


def relay_once(url: str, sink: Sink) -> tuple[float, int]:
    """``Relay.run(once=True)`` with the relay's defaults (no retention job): (seconds, rows)."""
    relay = Relay(RelayConfig(database_url=url, retention=None), [sink])
    started = time.perf_counter()
    summary = relay.run(once=True)
    return time.perf_counter() - started, summary.delivered


def drain(url: str, settings: Settings, hook_url: str, progress: Callable[[str], None]) -> Drain:
    defaults = RelayConfig()
    result = Drain(settings.rows, settings.rounds, defaults.batch_size, defaults.concurrency)
    secrets = (WebhookSecret.generate(),)
    runs: dict[str, Callable[[], tuple[float, int]]] = {
        "sql_loop": lambda: sql_loop(url, defaults.batch_size),
        "relay_noop": lambda: relay_once(url, NoOpSink()),
        "relay_webhook": lambda: relay_once(
            url, WebhookSink(hook_url, secrets, max_connections=defaults.concurrency)
        ),
    }
    for round_number in range(1, settings.rounds + 1):
        for side in SIDES:
            reset_backlog(url)
            seconds, delivered = runs[side]()
            if delivered != settings.rows:
                raise RelayBenchFailed(
                    f"{SIDE_LABELS[side]} delivered {delivered} rows of {settings.rows}"
                )
            result.seconds[side].append(seconds)
        progress(
            f"  drain round {round_number}/{settings.rounds}: "
            + ", ".join(
                f"{side} {result.rows / result.seconds[side][-1]:,.0f} rows/s" for side in SIDES
            )
        )
    return result


# -- the latency -----------------------------------------------------------------------------


@dataclass
class Writer:
    """One coordinator's active mentors, each pausing themselves in turn, then each lifting
    their own pause, again and again: every change notifies the coordinator (whoever acts
    is not notified, so a coordinator's own changes would notify nobody here). A mentor's
    next change comes 180 changes later: a row is never held behind its mentor's last."""

    mentors: list[tuple[UUID, Identity]]
    step: int = 0

    @classmethod
    def number(cls, coordinator: int) -> Writer:
        return cls(
            [
                (numbered_id("m", n), Identity.user(numbered_id("u", n)))
                for n in active_mentors(coordinator)
            ]
        )

    def next_call(self) -> tuple[Identity, calls.Call[Any]]:
        position = self.step % (2 * len(self.mentors))
        self.step += 1
        mentor, identity = self.mentors[position % len(self.mentors)]
        if position < len(self.mentors):
            return identity, calls.activate_pause(mentor, "relay benchmark")
        return identity, calls.lift_pause(mentor)


@dataclass
class Writes:
    """What the writers of one rate did."""

    done: int = 0
    failures: int = 0
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def write_steadily(
    url: str, writers: Sequence[Writer], rate: float, seconds: float
) -> tuple[Writes, float]:
    """Each writer on its own connection, together ``rate`` changes/s for ``seconds``,
    evenly spaced (a writer behind its schedule writes at once). (writes, seconds it took)."""
    writes = Writes()
    ready = threading.Barrier(len(writers) + 1)
    start: list[float] = []
    interval = len(writers) / rate

    def write(index: int, writer: Writer) -> None:
        try:
            with psycopg.connect(url) as conn:
                ready.wait()
                due = start[0] + index / rate  # writers take turns
                while due < start[0] + seconds:
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    identity, change = writer.next_call()
                    try:
                        rpc.call(conn, identity, change.function, change.arguments)
                    except PauseManagementError:
                        with writes.lock:
                            writes.failures += 1
                    else:
                        with writes.lock:
                            writes.done += 1
                    due += interval
        except BaseException as exc:  # reported by the caller
            with writes.lock:
                writes.errors.append(exc)
            ready.abort()

    threads = [
        threading.Thread(target=write, args=(i, w), name=f"bench-writer-{i}", daemon=True)
        for i, w in enumerate(writers)
    ]
    for thread in threads:
        thread.start()
    try:
        start.append(time.perf_counter() + 0.05)
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    for thread in threads:
        thread.join()
    if writes.errors:
        raise RelayBenchFailed(f"a writer failed: {writes.errors[0]!r}") from writes.errors[0]
    return writes, time.perf_counter() - start[0]


class RelayProcess:
    """``pyproj-rpc relay`` to one webhook, as it runs in production, its log in a file."""

    def __init__(self, url: str, hook_url: str) -> None:
        self._log: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            prefix="pyproj-bench-relay-", suffix=".log"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,  # not in argv, where the password would show
            "PYPROJ_RELAY_WEBHOOK_SECRETS": str(WebhookSecret.generate()),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pyproj_rpc", "relay", "--webhook-url", hook_url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        try:
            self._wait_for("listening")
        except BaseException:
            self.stop()
            raise

    def events(self) -> Iterator[dict[str, Any]]:
        for line in Path(self._log.name).read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record

    def tail(self) -> str:
        lines = Path(self._log.name).read_text(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def check(self) -> None:
        if self.process.poll() is not None:
            raise RelayBenchFailed(
                f"the relay exited with {self.process.returncode}:\n{self.tail()}"
            )

    def _wait_for(self, name: str) -> None:
        deadline = time.monotonic() + RELAY_START_TIMEOUT
        while not any(record.get("event") == name for record in self.events()):
            self.check()
            if time.monotonic() > deadline:
                raise RelayBenchFailed(f"the relay did not start listening:\n{self.tail()}")
            time.sleep(POLL)

    def stop(self) -> None:
        """SIGTERM, as a deployment stops it; killed if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(RELAY_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def relay_process(url: str, hook_url: str) -> Iterator[RelayProcess]:
    relay = RelayProcess(url, hook_url)
    try:
        yield relay
    finally:
        relay.stop()


def scalar(url: str, name: str, params: dict[str, Any] | None = None) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query(name), params or {}).fetchone()
    assert row is not None
    return row[0]


def commit_times(url: str, after: int, clock: str) -> dict[int, float]:
    """Outbox id -> epoch seconds its transaction committed (or the row was inserted)."""
    name = "bench_relay_commit_times" if clock == "commit" else "bench_relay_insert_times"
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(query(name), {"after": after}).fetchall()
    return {int(outbox_id): float(at) for outbox_id, at in rows}


@dataclass(frozen=True)
class Probe:
    """The relay process, its receiver, and how a row's latency starts (``clock``)."""

    url: str
    receiver: Receiver
    relay: RelayProcess
    clock: str

    def measure(self, writers: Sequence[Writer], rate: int, seconds: int) -> RateRun:
        """Steady writes, then every notification they made awaited (up to a limit)."""
        url = self.url
        with psycopg.connect(url, autocommit=True) as conn:
            # every rate from the same outbox: no dead versions of the last rate's rows (the
            # claim walks them until a vacuum; autovacuum comes about once a minute)
            conn.execute(query("bench_relay_vacuum_outbox"))
        after = int(scalar(url, "bench_relay_last_id"))
        self.receiver.take()  # forget what came before
        writes, took = write_steadily(url, writers, rate, seconds)
        stopped = time.time()
        backlog = int(scalar(url, "bench_relay_pending"))
        rows = int(scalar(url, "bench_relay_rows_after", {"after": after}))
        arrivals: dict[int, float] = {}
        progressed = time.monotonic()
        while len(arrivals) < rows and time.monotonic() - progressed < STALLED_AFTER:
            time.sleep(POLL)
            self.relay.check()
            before = len(arrivals)
            for arrived, outbox_id in self.receiver.take():
                if outbox_id > after:
                    arrivals.setdefault(outbox_id, arrived)  # the first, if sent twice
            if len(arrivals) > before:
                progressed = time.monotonic()
        committed = commit_times(url, after, self.clock)
        latencies = [
            (arrivals[outbox_id] - at) * 1000
            for outbox_id, at in committed.items()
            if outbox_id in arrivals
        ]
        complete = len(latencies) == rows
        return RateRun(
            target=rate,
            writers=len(writers),
            seconds=took,
            writes=writes.done,
            failures=writes.failures,
            rows=rows,
            latencies_ms=latencies,
            backlog_at_end=backlog,
            caught_up_seconds=(
                max(0.0, max(arrivals.values()) - stopped) if complete and arrivals else None
            ),
        )


def latency(
    url: str,
    settings: Settings,
    *,
    first_writer: int,
    clock: str,
    receiver: Receiver,
    progress: Callable[[str], None],
) -> Latency:
    """A relay process started, warmed up, then each rate in turn."""
    writers = [Writer.number(first_writer + i) for i in range(WRITER_COORDINATORS)]
    result = Latency(settings.seconds, clock, RelayConfig().poll_interval)
    with relay_process(url, receiver.url) as relay:
        probe = Probe(url, receiver, relay, clock)
        # warm-up: connections made, plans cached, nothing measured
        warm_up = probe.measure(writers[:1], WARM_UP_WRITES, 1)
        if warm_up.missing:
            raise RelayBenchFailed(f"the relay delivered nothing in the warm-up:\n{relay.tail()}")
        for rate in settings.rates:
            run = probe.measure(writers[: writers_for(rate)], rate, settings.seconds)
            result.runs.append(run)
            progress(
                f"  latency at {rate}/s: achieved {run.achieved:.0f}/s, p50"
                f" {ms_or_dash(run.p(0.5))}, p99 {ms_or_dash(run.p(0.99))},"
                f" backlog at end {run.backlog_at_end}"
            )
    return result


# -- the whole ---------------------------------------------------------------------------------


def run(
    server: BenchServer,
    settings: Settings,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Seed a roster and its backlog; the drain's rounds; then each rate's latency."""
    load = os.getloadavg()[0]
    mentors = roster_size(settings.rows)
    progress(f"relay: seeding {mentors:,} mentors and a backlog of {settings.rows:,} rows")
    with server.roster(mentors) as roster:
        progress(f"  {roster.describe()}")
        backlog_seconds = write_backlog(roster, settings.rows)
        tracked = scalar(roster.url, "bench_relay_track_commit_timestamp") == "on"
        if not tracked:
            progress(
                "  track_commit_timestamp is OFF on this server: latencies are measured from"
                " each row's insert, not its commit"
            )
        receiver = Receiver()
        try:
            drained = drain(roster.url, settings, receiver.url, progress)
            with psycopg.connect(roster.url, autocommit=True) as conn:
                conn.execute(query("bench_vacuum_analyze"))  # no autovacuum of the drain's rows
            measured = latency(
                roster.url,
                settings,
                first_writer=backlog_coordinators(settings.rows) + 1,
                clock="commit" if tracked else "insert",
                receiver=receiver,
                progress=progress,
            )
        finally:
            receiver.close()
        return Report(server.facts(), roster, backlog_seconds, drained, measured, load)
