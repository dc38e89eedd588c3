"""The relay: claims outbox rows, hands them to sinks, records each outcome.

One asyncio loop runs three kinds of task:

- the **listener** holds a dedicated autocommit connection with ``LISTEN`` on the outbox
  channel; each notification (and each reconnection, since notifications sent while it
  was away are lost) wakes the worker;
- the **worker** claims due rows in batches on its own connection (``claim_outbox``:
  ``FOR UPDATE SKIP LOCKED`` under a lease, so several relays share a backlog), delivers
  them (rows of one mentor in order, up to ``concurrency`` rows at once) and records each
  outcome at once: delivered, a retry with backoff, or a dead letter. It claims on start,
  on every wake-up, when a retry it scheduled falls due, and every ``poll_interval``;
- **periodic jobs** (retention; issue 6's sweeps) run on their own connections.

asyncio (rather than threads) because shutdown is then a matter of one event and task
cancellation: signals arrive through the loop, the listener's wait is cancelled cleanly,
and in-flight deliveries are awaited (SIGTERM) or cancelled (a second signal).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
import signal
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from time import monotonic
from typing import Any, Literal, TypeVar
from uuid import UUID

import psycopg

from pyproj_rpc import scheduler
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import query
from pyproj_rpc.relay import store
from pyproj_rpc.relay.config import LEASE_MARGIN, RelayConfig
from pyproj_rpc.relay.logs import event
from pyproj_rpc.relay.logs import logger as relay_logger
from pyproj_rpc.relay.messages import OutboxMessage
from pyproj_rpc.relay.metrics import MetricsServer, RelayMetrics
from pyproj_rpc.relay.sinks import Sink, SinkResult, Verdict
from pyproj_rpc.relay.store import (
    TRANSIENT_ERRORS,
    AsyncConn,
    Heartbeat,
    Outbox,
    OutboxStats,
    bounded,
)
from pyproj_rpc.text import first_line

CHANNEL = "mentoring_outbox"
RETRY_SLACK = 0.05  # claim a scheduled retry this long after it is due (clock differences)
SINK_GRACE = 1.0  # beyond a sink's own timeout, before the relay gives up on it
# Before sleeping, how long to wait for writers in flight (mentoring.wake_relays); past
# it (a writer's transaction stays open), look for rows again after FENCE_RETRY instead.
FENCE_TIMEOUT = 1.0
FENCE_RETRY = 0.05
# The listener asks the database whether it answers this often; /healthz turns 503 when
# no connection has had an answer for STALE_AFTER seconds (the server is down or hangs).
HEARTBEAT = 1.0
STALE_AFTER = 3.0

SETUP_OR_TRANSIENT: tuple[type[Exception], ...] = (*TRANSIENT_ERRORS, ConfigurationError)

T = TypeVar("T")

OutcomeKind = Literal["delivered", "retry", "dead_lettered", "released"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row, to be recorded in the outbox."""

    message: OutboxMessage
    kind: OutcomeKind
    error: str | None = None
    delay: float | None = None  # a retry's delay, in seconds
    reason: str | None = None  # why a row was dead-lettered


@dataclass(frozen=True)
class Prefetch:
    """A claim started while the previous batch was being delivered."""

    outbox: Outbox
    started: float  # monotonic: when the claim (and so its lease) began
    task: asyncio.Task[list[OutboxMessage]]

    async def settle(self) -> list[OutboxMessage]:
        """Its rows once the claim ends (it has the database calls' deadline); nothing if
        it failed: whatever it claimed is left to its lease. Raises only when the caller
        is cancelled (a stop past the shutdown timeout), cancelling the claim too."""
        try:
            return await self.task
        except asyncio.CancelledError:
            if not self.task.cancelled():
                raise
            return []
        except Exception:  # a lost connection; the next claim will see it
            return []


@dataclass
class RunSummary:
    """Counts of outcomes since the relay started."""

    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    released: int = 0
    stale: int = 0
    claimed: int = 0


# -- periodic jobs: the extension point for work next to deliveries --------------------------


class JobContext:
    """What a periodic job may use: its own database connections, the relay's settings."""

    def __init__(self, relay: Relay, job: PeriodicJob) -> None:
        self.relay = relay
        self.job = job

    @property
    def config(self) -> RelayConfig:
        return self.relay.config

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConn]:
        """A new autocommit connection (as the relay's role), closed afterwards."""
        conn = await self.relay._connect(f"{self.config.application_name}-{self.job.name}")
        try:
            yield conn
        finally:
            await conn.close()

    def log(self, level: int, name: str, **fields: Any) -> None:
        event(level, name, job=self.job.name, **fields)


class PeriodicJob(ABC):
    """Work the relay runs every ``interval`` seconds (with 10% jitter) while it runs.

    Each job runs in its own task on connections of its own (``ctx.connect()``), so it
    never delays deliveries; an exception is logged and the job runs again next time.
    Running relays all run their jobs: a job that must run once across relays takes a
    lock only its role can take (the sweeps: ``mentoring.take_sweeper_lease``).
    """

    name: str = "job"
    interval: float = 3600.0
    run_at_start: bool = True

    @abstractmethod
    async def run(self, ctx: JobContext) -> None:
        """Do the work once."""


class RetentionJob(PeriodicJob):
    """Delete delivered rows older than ``older_than`` seconds (``outbox_purge_delivered``)."""

    name = "retention"

    def __init__(self, older_than: float, interval: float = 3600.0) -> None:
        self.older_than = older_than
        self.interval = interval

    async def run(self, ctx: JobContext) -> None:
        async with ctx.connect() as conn:
            cursor = await conn.execute(
                query("outbox_purge_delivered"), {"older_than": timedelta(seconds=self.older_than)}
            )
            row = await cursor.fetchone()
        purged = next(iter(row.values())) if row else 0
        if purged:
            ctx.log(logging.INFO, "purged", count=purged, older_than_seconds=self.older_than)


class SweepJob(PeriodicJob):
    """The scheduler's sweeps (expiry, overdue reminders, key retention), one relay at a time.

    Runs :func:`pyproj_rpc.scheduler.sweep_once` in a worker thread on a connection of its
    own; the sweepers' lease makes every other relay skip the round.
    """

    name = "sweeps"

    def __init__(self, interval: float) -> None:
        self.interval = interval

    async def run(self, ctx: JobContext) -> None:
        report = await asyncio.to_thread(self.sweep, ctx.config.database_url)
        if report.ran:
            ctx.log(
                logging.INFO,
                "swept",
                expired=report.expired,
                reminded=report.reminded,
                keys_purged=report.keys_purged,
            )
        else:
            ctx.log(logging.DEBUG, "sweep_skipped", reason="another instance is sweeping")

    @staticmethod
    def sweep(database_url: str) -> scheduler.SweepReport:
        with psycopg.connect(database_url, application_name="pyproj-rpc-relay-sweeps") as conn:
            return scheduler.sweep_once(conn)


def default_jobs(config: RelayConfig) -> list[PeriodicJob]:
    """The jobs a relay runs unless told otherwise: retention and the sweeps, as configured."""
    jobs: list[PeriodicJob] = []
    if config.retention is not None:
        jobs.append(RetentionJob(config.retention, config.retention_interval))
    if config.schedule is not None:
        jobs.append(SweepJob(config.schedule))
    return jobs


# -- the relay ------------------------------------------------------------------------------


class Relay:
    """Delivers the outbox to ``sinks``, at least once, for as long as it runs.

    ``run()`` blocks until :meth:`stop` (from any thread); ``run(once=True)`` delivers what
    is due now and returns. The ``pyproj-rpc relay`` command runs
    ``serve(handle_signals=True)``: SIGTERM/SIGINT stop it gracefully (no new claims,
    in-flight rows finish, unstarted rows are released), a second signal also cancels
    in-flight deliveries (their rows are released too).
    """

    def __init__(
        self,
        config: RelayConfig,
        sinks: Sequence[Sink],
        *,
        jobs: Sequence[PeriodicJob] | None = None,
        metrics: RelayMetrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not sinks:
            raise ConfigurationError("the relay needs a sink: --webhook-url or --stdout")
        if not config.database_url:
            raise ConfigurationError("the relay needs a database URL")
        self.config = config
        self.sinks = list(sinks)
        self.jobs = list(jobs) if jobs is not None else default_jobs(config)
        self.metrics = metrics or RelayMetrics()
        self.policy = config.retry_policy
        # The longest one row may take (all sinks at once), and a lease that covers a batch.
        self.sink_timeout = max((s.timeout or config.timeout) for s in self.sinks)
        self.lease = config.effective_lease(self.sink_timeout)
        self.summary = RunSummary()
        self.listener_state = "stopped"
        self.database_state = "disconnected"
        # Jitter needs spread, not cryptographic randomness.
        self._rng = rng or random.Random()  # noqa: S311
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._conn: AsyncConn | None = None
        self._broken: BaseException | None = None  # the work connection failed mid-batch
        self._ledger: list[Outcome] = []  # decided, not yet recorded (database away)
        self._to_mark: list[Outcome] = []  # delivered, marked by the next claim's round trip
        self._retry_times: list[float] = []  # when retries we scheduled fall due (monotonic)
        self._delivering: set[asyncio.Task[None]] = set()
        self._next_batch: Prefetch | None = None  # claimed while the last batch was delivered
        self._recording: asyncio.Task[None] | None = None  # the last batch's outcomes
        self._fatal: BaseException | None = None
        self._metrics_server: MetricsServer | None = None
        self._stats_due = 0.0
        self._ever_connected = False
        self._awake = False  # holding mentoring.relay_awake_lock on the work connection
        self._heartbeat = Heartbeat()

    # -- public ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> RunSummary:
        """Run in a new event loop until stopped (or, with ``once``, until nothing is due)."""
        return asyncio.run(self.serve(once=once))

    def stop(self, *, force: bool = False) -> None:
        """Stop gracefully; ``force`` also cancels in-flight deliveries. Thread-safe."""
        self._stop_requested = True
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._request_stop(force)
        else:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(self._request_stop, force)

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """Where ``/metrics`` and ``/healthz`` are served, once started."""
        return self._metrics_server.address if self._metrics_server else None

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy while listening for wake-ups and the database answers; with the states,
        for ``/healthz``."""
        age = self._heartbeat.age()
        return self.listener_state == "listening" and age <= STALE_AFTER, {
            "listener": self.listener_state,
            "database": self.database_state,
            "last_answer_seconds_ago": round(age, 3),
            "in_flight": len(self._delivering),
            "unrecorded_outcomes": len(self._ledger) + len(self._to_mark),
        }

    async def serve(self, *, once: bool = False, handle_signals: bool = False) -> RunSummary:
        """The relay's main coroutine (see :meth:`run`)."""
        loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop = loop
        if self._stop_requested:
            self._request_stop(False)
        if handle_signals:
            self._install_signal_handlers(loop)
        background: list[asyncio.Task[None]] = []
        opened: list[Sink] = []
        try:
            self._start_metrics_server()
            for sink in self.sinks:
                await sink.open()
                opened.append(sink)
            self._log_start(once)
            if not once:
                background.append(asyncio.create_task(self._listen(), name="relay-listener"))
                background += [
                    asyncio.create_task(self._run_job(job), name=f"relay-job-{job.name}")
                    for job in self.jobs
                ]
            await self._work_until_stopped(once)
        finally:
            deadline = monotonic() + self.config.shutdown_timeout
            self._stopping = True
            self._stop_event.set()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self._within(deadline, self._flush_ledger(final=True), "record outcomes")
            await self._within(deadline, self._close_work_connection(), "close the connection")
            for sink in reversed(opened):
                with contextlib.suppress(Exception):
                    await sink.close()
            self._stop_metrics_server()
            if handle_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            self._loop = None
            self._stop_requested = False
            self.listener_state = "stopped"
            event(logging.INFO, "stopped", **vars(self.summary))
        if self._fatal is not None:
            raise self._fatal
        return self.summary

    # -- stopping -------------------------------------------------------------------------

    async def _work_until_stopped(self, once: bool) -> None:
        """The worker, given at most ``shutdown_timeout`` once a stop is requested: rows
        still in flight then are cancelled and left to their lease (delivered again later)."""
        work = asyncio.create_task(self._work(once), name="relay-worker")
        stopped = asyncio.ensure_future(self._stop_event.wait())
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                await asyncio.wait({work}, timeout=self.config.shutdown_timeout)
            if not work.done():
                event(
                    logging.WARNING,
                    "shutdown_timeout",
                    seconds=self.config.shutdown_timeout,
                    in_flight=len(self._delivering),
                )
                for task in (*self._delivering, work):
                    task.cancel()
                await asyncio.wait({work}, timeout=1.0)
        finally:
            stopped.cancel()
        if work.done() and not work.cancelled():
            work.result()

    async def _within(self, deadline: float, step: Coroutine[Any, Any, None], what: str) -> None:
        """One step of the shutdown, given what is left of its time (at least a second)."""
        try:
            await asyncio.wait_for(step, max(1.0, deadline - monotonic()))
        except TimeoutError:
            event(logging.WARNING, "shutdown_step_timeout", step=what)

    def _request_stop(self, force: bool) -> None:
        if force and self._delivering:
            event(logging.WARNING, "aborting", in_flight=len(self._delivering))
            for task in self._delivering:
                task.cancel()
        if not self._stopping:
            self._stopping = True
            event(logging.INFO, "stopping", in_flight=len(self._delivering))
            self._stop_event.set()
            self._wake.set()

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        received = 0

        def on_signal(name: str) -> None:
            nonlocal received
            received += 1
            event(logging.INFO, "signal", signal=name, count=received)
            self._request_stop(force=received > 1)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig.name)

    async def _unless_stopped(self, work: Coroutine[Any, Any, T]) -> T | None:
        """``work``'s result, or None (and ``work`` cancelled) if the relay stops first."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self._stop_event.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, *TRANSIENT_ERRORS):
            await task
        return None

    async def _wait_for_stop(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the relay stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), max(0.0, seconds))

    # -- connections ----------------------------------------------------------------------

    async def _connect(self, application_name: str | None = None) -> AsyncConn:
        return await store.connect(
            self.config.database_url,
            role=self.config.role,
            application_name=application_name or self.config.application_name,
            connect_timeout=self.config.connect_timeout,
        )

    def _reconnect_delay(self, attempt: int) -> float:
        ceiling = min(self.config.reconnect_cap, self.config.reconnect_base * 2.0**attempt)
        return ceiling * self._rng.uniform(0.5, 1.0)

    async def _outbox(self, once: bool) -> Outbox | None:
        """The work connection, (re)connected with backoff; None once stopping."""
        if self._conn is not None and not self._conn.closed and self._broken is None:
            return self._outbox_on(self._conn)
        attempt = 0
        while not self._stopping:
            try:
                conn = await self._unless_stopped(self._connect())
                if conn is None:
                    return None
                try:
                    # also checks the functions and privileges
                    stats = await self._outbox_on(conn).stats()
                except psycopg.Error as exc:
                    await conn.close()
                    if isinstance(exc, TRANSIENT_ERRORS):
                        raise
                    raise store.setup_error(exc, self.config.role) from exc
            except TRANSIENT_ERRORS as exc:
                self._set_database("unavailable")
                if once:
                    raise
                delay = self._reconnect_delay(attempt)
                attempt += 1
                event(
                    logging.WARNING, "database_unavailable", error=first_line(exc), retry_in=delay
                )
                await self._wait_for_stop(delay)
                continue
            self._conn, self._broken, self._awake = conn, None, False
            self._set_database("connected")
            self._apply_stats(stats)
            event(logging.INFO, "database_connected", reconnected=self._ever_connected)
            self._ever_connected = True
            self._wake.set()
            return self._outbox_on(conn)
        return None

    def _outbox_on(self, conn: AsyncConn) -> Outbox:
        return Outbox(conn, self.config.database_timeout, self._heartbeat)

    async def _lost_work_connection(self, exc: BaseException | None) -> None:
        event(logging.WARNING, "database_lost", error=first_line(exc) if exc else None)
        await self._settle_recording()  # it fails too, and keeps its outcomes for later
        await self._close_work_connection()
        self._set_database("unavailable")

    async def _close_work_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    def _set_database(self, state: str) -> None:
        self.database_state = state
        self.metrics.database_up.set(1 if state == "connected" else 0)

    def _set_listener(self, state: str) -> None:
        self.listener_state = state
        self.metrics.listener_up.set(1 if state == "listening" else 0)

    # -- the listener ---------------------------------------------------------------------

    async def _listen(self) -> None:
        attempt, listened_before = 0, False
        while not self._stopping:
            self._set_listener("connecting")
            try:
                conn = await self._connect(f"{self.config.application_name}-listener")
            except TRANSIENT_ERRORS as exc:
                delay = self._reconnect_delay(attempt)
                attempt += 1
                self._set_listener("disconnected")
                event(
                    logging.WARNING, "listener_unavailable", error=first_line(exc), retry_in=delay
                )
                await self._wait_for_stop(delay)
                continue
            except ConfigurationError as exc:
                self._fatal = exc
                self._request_stop(False)
                return
            listener = self._outbox_on(conn)
            try:
                await bounded(
                    conn.execute(query("relay_listen")),
                    self.config.database_timeout,
                    "relay_listen",
                )
                self._heartbeat.beat()
                self._set_listener("listening")
                event(logging.INFO, "listening", channel=CHANNEL, reconnected=listened_before)
                listened_before, attempt = True, 0
                # Whatever was notified while we were not listening is lost: rescan.
                self._wake.set()
                while not self._stopping:
                    async for _ in conn.notifies(timeout=HEARTBEAT):
                        self._wake.set()
                    await listener.ping()  # the database answers (bounded): /healthz
            except TRANSIENT_ERRORS as exc:
                self._set_listener("disconnected")
                event(logging.WARNING, "listener_lost", error=first_line(exc))
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    # -- periodic jobs --------------------------------------------------------------------

    async def _run_job(self, job: PeriodicJob) -> None:
        context = JobContext(self, job)
        delay = 0.0 if job.run_at_start else job.interval
        while True:
            await self._wait_for_stop(delay)
            if self._stopping:
                return
            try:
                await job.run(context)
            except TRANSIENT_ERRORS as exc:
                event(logging.WARNING, "job_failed", job=job.name, error=first_line(exc))
            except Exception as exc:
                logging.getLogger(__name__).debug("job failed", exc_info=True)
                event(logging.ERROR, "job_failed", job=job.name, error=first_line(exc))
            delay = job.interval * self._rng.uniform(0.9, 1.1)

    # -- the worker -----------------------------------------------------------------------

    async def _work(self, once: bool) -> None:
        try:
            await self._work_loop(once)
        finally:
            await self._mark_delivered_now()
            await self._settle_recording()
            await self._give_back_next_batch()

    async def _work_loop(self, once: bool) -> None:
        while not self._stopping:
            if self._conn is not None:  # recording a batch behind the next one may have failed
                await self._drop_broken_connection(once)
            outbox = await self._outbox(once)
            if outbox is None or self._stopping:
                break
            fenced = True
            try:
                await self._flush_ledger()
                await self._refresh_stats(outbox)
                if not once and not self._awake:
                    self._awake = await outbox.awake()
                self._wake.clear()
                claimed = await self._pass(outbox)
                if not claimed and not once:
                    fenced = await self._fall_asleep(outbox)
                    claimed = await self._pass(outbox)
            except TRANSIENT_ERRORS as exc:
                if once:
                    raise
                await self._lost_work_connection(exc)
                continue
            except psycopg.Error as exc:
                raise store.setup_error(exc, self.config.role) from exc
            if await self._drop_broken_connection(once):
                continue
            if claimed:
                continue  # there may be more
            if once:
                break
            # Not fenced: a writer in flight may not notify; look again soon.
            await self._sleep_until_due(self.config.poll_interval if fenced else FENCE_RETRY)

    async def _drop_broken_connection(self, once: bool) -> bool:
        """True if the work connection failed mid-batch: it is closed (``once``: raise)."""
        if self._broken is None:
            return False
        if once:
            raise self._broken
        await self._lost_work_connection(self._broken)
        return True

    async def _fall_asleep(self, outbox: Outbox) -> bool:
        """Let writers notify again, and wait for those who did not (see wake_relays)."""
        if self._awake:
            self._awake = False
            await outbox.not_awake()
        fenced = await outbox.fence(FENCE_TIMEOUT)
        if not fenced:
            event(logging.WARNING, "fence_timeout", timeout_seconds=FENCE_TIMEOUT)
        return fenced

    async def _sleep_until_due(self, poll_interval: float) -> None:
        """Until a wake-up, a scheduled retry, a stats refresh, or the poll interval."""
        now = monotonic()
        timeout = poll_interval
        if self._retry_times:
            if self._retry_times[0] <= now:
                while self._retry_times and self._retry_times[0] <= now:
                    heapq.heappop(self._retry_times)
                return
            timeout = min(timeout, self._retry_times[0] - now)
        if self._metrics_server is not None:
            timeout = min(timeout, self._stats_due - now)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, timeout))

    async def _refresh_stats(self, outbox: Outbox, *, force: bool = False) -> None:
        if self._metrics_server is None or (monotonic() < self._stats_due and not force):
            return
        self._apply_stats(await outbox.stats())

    def _apply_stats(self, stats: OutboxStats) -> None:
        self._stats_due = monotonic() + self.config.stats_interval
        self.metrics.backlog.set(stats.pending)
        self.metrics.dead_letters.set(stats.dead)
        self.metrics.oldest_pending_seconds.set(stats.oldest_pending_seconds)

    async def _claim(self, outbox: Outbox) -> tuple[float, list[OutboxMessage]]:
        """The next batch: the one claimed during the last delivery, or a new claim."""
        prefetch, self._next_batch = self._next_batch, None
        if prefetch is not None:
            if prefetch.outbox.conn is outbox.conn:
                return prefetch.started, await prefetch.task
            await prefetch.settle()  # claimed on a connection since lost: left to its lease
        started = monotonic()
        to_mark, self._to_mark = self._to_mark, []
        try:
            delivered = [outcome.message.id for outcome in to_mark]
            return started, await outbox.claim(self.config.batch_size, self.lease, delivered)
        except BaseException:
            self._ledger.extend(to_mark)  # recorded once the database answers again
            raise

    def _claim_next_batch(self, outbox: Outbox) -> None:
        """Claim the next batch while this one is delivered, so that the database's time
        and ours overlap. The claim holds back a mentor's rows behind any undelivered one
        (claimed or not), so one mentor's order is kept."""
        if not self._stopping and self._broken is None:
            task = asyncio.create_task(outbox.claim(self.config.batch_size, self.lease))
            self._next_batch = Prefetch(outbox, monotonic(), task)

    async def _give_back_next_batch(self) -> None:
        """Release a batch claimed ahead that will not be delivered (stopping, once done)."""
        prefetch, self._next_batch = self._next_batch, None
        if prefetch is None:
            return
        messages = await prefetch.settle()
        if messages and self._broken is None:
            await self._release(prefetch.outbox, messages[0].claim_id, messages)

    async def _pass(self, outbox: Outbox) -> int:
        """Deliver one batch; returns how many rows were claimed. A full batch claims the
        next one while it is delivered."""
        started, messages = await self._claim(outbox)
        if not messages:
            return 0
        self.summary.claimed += len(messages)
        # A delivery starts only if it can end before the lease runs out: past it, another
        # relay may claim the row, and it would be delivered twice.
        last_start = started + self.lease - self.sink_timeout - SINK_GRACE - LEASE_MARGIN
        undecided = {message.id: message for message in messages}
        decided: list[Outcome] = []
        # One at a time: claim order. Else a mentor's rows one after the other, in order.
        groups = deque([messages] if self.config.concurrency == 1 else by_mentor(messages))

        async def deliver_groups() -> None:
            """One of ``concurrency`` workers: each takes a mentor's rows, in turn."""
            while groups:
                for message in groups.popleft():
                    if self._stopping or self._broken is not None or monotonic() > last_start:
                        return
                    decided.append(await self._deliver(message, undecided))

        workers = min(self.config.concurrency, len(groups))
        tasks = [asyncio.create_task(deliver_groups()) for _ in range(workers)]
        self._delivering.update(tasks)
        if len(messages) == self.config.batch_size:
            self._claim_next_batch(outbox)
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._delivering.difference_update(tasks)
            # every outcome of the batch in a few round trips, after the sinks decided
            await self._settle_recording()
            if self._next_batch is not None and not undecided and not self._stopping:
                # the pipeline is full: record while the next batch is delivered
                self._recording = asyncio.create_task(self._record_all(outbox, decided))
            elif not undecided and not self._stopping and self._broken is None:
                # the next claim follows at once: it marks the delivered in its round trip
                self._to_mark.extend(o for o in decided if o.kind == "delivered")
                await self._record_all(outbox, [o for o in decided if o.kind != "delivered"])
            else:
                await self._record_all(outbox, decided)
        if undecided:
            await self._release(outbox, messages[0].claim_id, list(undecided.values()))
        for result in results:
            if isinstance(result, Exception):  # not a cancellation: a bug, or a setup error
                raise result
        return len(messages)

    async def _deliver(
        self, message: OutboxMessage, undecided: dict[int, OutboxMessage]
    ) -> Outcome:
        started = monotonic()
        if len(self.sinks) == 1:  # no task of its own: one less per row
            results = [await self._hand_to(self.sinks[0], message)]
        else:
            results = await asyncio.gather(*(self._hand_to(sink, message) for sink in self.sinks))
        latency = monotonic() - started
        outcome = self._decide(message, results)
        del undecided[message.id]
        self._count(outcome, latency)
        return outcome

    async def _hand_to(self, sink: Sink, message: OutboxMessage) -> SinkResult:
        limit = (sink.timeout or self.config.timeout) + SINK_GRACE
        try:
            async with asyncio.timeout(limit):
                return await sink.deliver(message)
        except TimeoutError:
            return SinkResult.retry(f"no answer within {limit:g}s")
        except Exception as exc:
            logging.getLogger(__name__).debug("sink %s failed", sink.name, exc_info=True)
            return SinkResult.retry(f"{type(exc).__name__}: {exc}")

    def _decide(self, message: OutboxMessage, results: Sequence[SinkResult]) -> Outcome:
        failed = [
            (sink, result)
            for sink, result in zip(self.sinks, results, strict=True)
            if result.verdict is not Verdict.ACCEPTED
        ]
        if not failed:
            return Outcome(message, "delivered")
        several = len(self.sinks) > 1
        error = "; ".join(
            f"{sink.name}: {result.error}" if several else str(result.error)
            for sink, result in failed
        )
        waits = [r.retry_after for _, r in failed if r.retry_after is not None]
        decision = self.policy.after_failure(
            attempt=message.attempt,
            created_at=message.created_at,
            permanent=any(r.verdict is Verdict.REJECTED for _, r in failed),
            retry_after=max(waits) if waits else None,
            rng=self._rng,
        )
        if decision.dead:
            return Outcome(message, "dead_lettered", error, reason=decision.reason)
        return Outcome(message, "retry", error, delay=decision.delay)

    def _count(self, outcome: Outcome, latency: float | None) -> None:
        """Metrics, the summary and the log line of one outcome."""
        message, kind = outcome.message, outcome.kind
        counters = {
            "delivered": self.metrics.delivered,
            "retry": self.metrics.retried,
            "dead_lettered": self.metrics.dead_lettered,
            "released": self.metrics.released,
        }
        counters[kind].inc()
        if kind == "delivered":
            self.summary.delivered += 1
        elif kind == "retry":
            self.summary.retried += 1
        elif kind == "dead_lettered":
            self.summary.dead_lettered += 1
        else:
            self.summary.released += 1
        if latency is not None:
            self.metrics.delivery_seconds.observe(latency, outcome=kind)
        level = {"retry": logging.WARNING, "dead_lettered": logging.ERROR}.get(kind, logging.INFO)
        if not relay_logger.isEnabledFor(level):
            return
        fields: dict[str, Any] = {
            "outbox_id": message.id,
            "webhook_id": message.webhook_id,
            "event_id": message.event_id,
            "attempt": message.attempt,
            "outcome": kind,
            "latency_ms": None if latency is None else round(latency * 1000, 1),
            "error": outcome.error,
        }
        if outcome.delay is not None:
            fields["retry_in"] = round(outcome.delay, 3)
        if outcome.reason is not None:
            fields["reason"] = outcome.reason
        event(level, kind, **fields)

    # -- recording outcomes ---------------------------------------------------------------

    async def _settle_recording(self) -> None:
        """Wait for the last batch's outcomes to be recorded (or kept in the ledger): one
        batch's records at a time, and none left behind on a connection about to close."""
        recording, self._recording = self._recording, None
        if recording is not None:
            await recording

    async def _mark_delivered_now(self) -> None:
        """Mark the delivered rows no claim will carry (the worker is ending)."""
        to_mark, self._to_mark = self._to_mark, []
        if to_mark and self._conn is not None and not self._conn.closed:
            await self._record_all(self._outbox_on(self._conn), to_mark)
        else:
            self._ledger.extend(to_mark)

    async def _record_all(self, outbox: Outbox, outcomes: Sequence[Outcome]) -> None:
        """Record a batch's outcomes; if the database is away, keep them for later."""
        if not outcomes:
            return
        if self._broken is not None:
            self._ledger.extend(outcomes)
            return
        try:
            await self._apply_all(outbox, outcomes)
        except TRANSIENT_ERRORS as exc:
            self._broken = exc
            self._ledger.extend(outcomes)
        except asyncio.CancelledError:
            self._ledger.extend(outcomes)
            raise

    async def _apply_all(self, outbox: Outbox, outcomes: Sequence[Outcome]) -> None:
        """One round trip per kind: the delivered, the failed, the released (per claim).
        Applying the same outcomes again changes nothing."""
        delivered = [o.message.id for o in outcomes if o.kind == "delivered"]
        if delivered:
            await outbox.delivered(delivered)
        failed = [o for o in outcomes if o.kind in ("retry", "dead_lettered")]
        if failed:
            current = set(await outbox.failed_many(failed))
            for outcome in failed:
                if outcome.message.id not in current:
                    self._stale(outcome)
                elif outcome.delay is not None:
                    due = monotonic() + outcome.delay + RETRY_SLACK
                    heapq.heappush(self._retry_times, due)
        released: dict[UUID, list[Outcome]] = {}
        for outcome in outcomes:
            if outcome.kind == "released":
                released.setdefault(outcome.message.claim_id, []).append(outcome)
        for claim_id, group in released.items():
            await self._apply_releases(outbox, claim_id, group)

    async def _release(
        self, outbox: Outbox, claim_id: UUID, messages: Sequence[OutboxMessage]
    ) -> None:
        """Give back rows whose delivery did not start (or was cancelled); count those the
        database says were still ours (another relay may have taken the others)."""
        outcomes = [Outcome(m, "released") for m in messages]
        if self._broken is None:
            try:
                await self._apply_releases(outbox, claim_id, outcomes)
                return
            except TRANSIENT_ERRORS as exc:
                self._broken = exc
        self._ledger.extend(outcomes)

    async def _apply_releases(
        self, outbox: Outbox, claim_id: UUID, outcomes: Sequence[Outcome]
    ) -> None:
        released = set(await outbox.release(claim_id, [o.message.id for o in outcomes]))
        for outcome in outcomes:
            if outcome.message.id in released:
                self._count(outcome, None)
            else:
                self._stale(outcome)

    def _stale(self, outcome: Outcome) -> None:
        """The row's claim is no longer ours: its lease ran out, another relay has it."""
        message = outcome.message
        self.summary.stale += 1
        self.metrics.stale.inc()
        event(
            logging.WARNING,
            "stale_claim",
            outbox_id=message.id,
            webhook_id=message.webhook_id,
            attempt=message.attempt,
            outcome=outcome.kind,
        )

    async def _flush_ledger(self, *, final: bool = False) -> None:
        """Record the outcomes kept while the database was away."""
        if not self._ledger:
            return
        if final and (self._conn is None or self._conn.closed or self._broken is not None):
            await self._close_work_connection()
            try:
                self._conn, self._broken = await self._connect(), None
            except SETUP_OR_TRANSIENT as exc:
                event(
                    logging.ERROR,
                    "outcomes_not_recorded",
                    count=len(self._ledger),
                    error=first_line(exc),
                    note="these rows are delivered again once their lease runs out",
                )
                return
        assert self._conn is not None
        outbox, count = self._outbox_on(self._conn), len(self._ledger)
        try:
            await self._apply_all(outbox, self._ledger)
        except TRANSIENT_ERRORS as exc:
            if not final:
                raise
            event(
                logging.ERROR,
                "outcomes_not_recorded",
                count=len(self._ledger),
                error=first_line(exc),
            )
            return
        self._ledger.clear()
        event(logging.INFO, "outcomes_recorded_late", count=count)

    # -- metrics server and the start line --------------------------------------------------

    def _start_metrics_server(self) -> None:
        if self.config.metrics_port is None:
            return
        try:
            server = MetricsServer(
                self.metrics, self.health, self.config.metrics_host, self.config.metrics_port
            )
        except OSError as exc:
            where = f"{self.config.metrics_host}:{self.config.metrics_port}"
            raise ConfigurationError(f"cannot serve metrics on {where}: {exc.strerror}") from None
        server.start()
        self._metrics_server = server
        host, port = server.address
        event(logging.INFO, "metrics_listening", host=host, port=port)

    def _stop_metrics_server(self) -> None:
        if self._metrics_server is not None:
            self._metrics_server.stop()
            self._metrics_server = None

    def _log_start(self, once: bool) -> None:
        config = self.config
        event(
            logging.INFO,
            "started",
            sinks=[sink.name for sink in self.sinks],
            once=once,
            batch_size=config.batch_size,
            concurrency=config.concurrency,
            lease=self.lease,
            poll_interval=config.poll_interval,
            max_attempts=config.max_attempts,
            max_age=config.max_age,
            role=config.role,
            jobs=[job.name for job in self.jobs] if not once else [],
        )


def by_mentor(messages: Sequence[OutboxMessage]) -> list[list[OutboxMessage]]:
    """Rows grouped by mentor, in claim order: one mentor's rows go out one after the other."""
    groups: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        groups.setdefault(message.mentor_id or f"row:{message.id}", []).append(message)
    return list(groups.values())


__all__ = [
    "JobContext",
    "Outcome",
    "PeriodicJob",
    "Relay",
    "RetentionJob",
    "RunSummary",
    "SweepJob",
    "by_mentor",
    "default_jobs",
]
