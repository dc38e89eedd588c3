"""The relay's side of the database: connections, and the outbox functions of revision 0003.

Every call is one short autocommit statement: no transaction stays open while a
delivery goes over the network.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any, Protocol, TypeVar
from uuid import UUID

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import query
from pyproj_rpc.relay.messages import OutboxMessage

T = TypeVar("T")


class DatabaseTimeout(psycopg.OperationalError):
    """A database call got no answer in time: the server hangs or the network is gone."""


# Errors after which a new connection may succeed: the server went away, restarted, hangs,
# or cancelled us. Anything else (no such function, no privilege) is a setup problem.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)

# After a timeout: how long psycopg may take to give up on the query before we stop waiting.
CANCEL_GRACE = 0.5


async def bounded(call: Awaitable[T], seconds: float, what: str) -> T:
    """``call``'s result, or :class:`DatabaseTimeout` after ``seconds``.

    On timeout the call is cancelled twice: psycopg first asks the server to cancel the
    query, then, cancelled again, closes the connection rather than wait on a server that
    does not answer.
    """
    task = asyncio.ensure_future(call)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        for _ in range(2):
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE)
            if done:
                break
        if done and not task.cancelled():
            task.exception()  # retrieved: what failed is the timeout
        raise DatabaseTimeout(f"{what}: no answer within {seconds:g}s")
    return task.result()


class FailedDelivery(Protocol):
    """A row the sinks did not accept: retried after ``delay``, or dead (no delay)."""

    @property
    def message(self) -> OutboxMessage: ...
    @property
    def error(self) -> str | None: ...
    @property
    def delay(self) -> float | None: ...


class Heartbeat:
    """When the database last answered, on any of the relay's connections."""

    def __init__(self) -> None:
        self.last = monotonic()

    def beat(self) -> None:
        self.last = monotonic()

    def age(self) -> float:
        return monotonic() - self.last


# Notice a peer that vanished without closing the TCP connection (ignored on sockets).
KEEPALIVES = "keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3"

MAX_ERROR_CHARS = 2000  # mentoring.outbox.last_error's limit

AsyncConn = psycopg.AsyncConnection[dict[str, Any]]
SyncConn = psycopg.Connection[dict[str, Any]]


def with_keepalives(url: str) -> str:
    """``url`` with TCP keepalives unless it sets them (a URL or a key=value string)."""
    info = conninfo_to_dict(url)
    extra = dict(pair.split("=") for pair in KEEPALIVES.split())
    return make_conninfo(url, **{k: v for k, v in extra.items() if k not in info})


def setup_error(exc: psycopg.Error, role: str | None) -> ConfigurationError:
    """A clear message for a database that is not ready for the relay, or a role that can't."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.UndefinedFunction | psycopg.errors.UndefinedTable):
        return ConfigurationError(
            f"the outbox functions are missing ({text}): run `pyproj-rpc db upgrade`"
        )
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        hint = (
            f"is the login role a member of {role}?"
            if role
            else "pass --role mentoring_relay (a login role granted mentoring_relay)"
        )
        return ConfigurationError(f"not allowed: {text}; {hint}")
    return ConfigurationError(f"the database refused the relay's setup: {text}")


async def connect(
    url: str,
    *,
    role: str | None = None,
    application_name: str = "pyproj-rpc-relay",
    connect_timeout: float = 10.0,
) -> AsyncConn:
    """An autocommit connection, as ``role`` when given."""
    conn = await psycopg.AsyncConnection.connect(
        with_keepalives(url),
        autocommit=True,
        row_factory=dict_row,
        application_name=application_name,
        connect_timeout=max(1, math.ceil(connect_timeout)),
    )
    try:
        await bounded(
            conn.execute(query("pin_search_path_for_session")),
            connect_timeout,
            "pin_search_path_for_session",
        )
        if role:
            await bounded(
                conn.execute(query("relay_set_role"), {"role": role}),
                connect_timeout,
                "relay_set_role",
            )
    except psycopg.Error as exc:
        await conn.close()
        if isinstance(exc, TRANSIENT_ERRORS):
            raise
        raise setup_error(exc, role) from exc
    return conn


def connect_sync(url: str, *, role: str | None = None) -> SyncConn:
    """The same, blocking, for ``pyproj-rpc outbox``."""
    conn = psycopg.connect(with_keepalives(url), autocommit=True, row_factory=dict_row)
    try:
        conn.execute(query("pin_search_path_for_session"))
        if role:
            conn.execute(query("relay_set_role"), {"role": role})
    except psycopg.Error as exc:
        conn.close()
        if isinstance(exc, TRANSIENT_ERRORS):
            raise
        raise setup_error(exc, role) from exc
    return conn


@dataclass(frozen=True)
class OutboxStats:
    """The backlog at a glance (``mentoring.outbox_stats()``)."""

    pending: int
    due: int
    in_flight: int
    dead: int
    delivered: int
    oldest_pending_at: datetime | None
    oldest_pending_seconds: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboxStats:
        return cls(**row)


class Outbox:
    """The outbox functions on one autocommit connection, each call within ``timeout``."""

    def __init__(
        self, conn: AsyncConn, timeout: float = 5.0, heartbeat: Heartbeat | None = None
    ) -> None:
        self.conn = conn
        self.timeout = timeout
        self.heartbeat = heartbeat or Heartbeat()

    async def _run(
        self,
        name: str,
        params: dict[str, Any],
        *,
        first: tuple[str, dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """``name``'s rows; ``first`` runs before it in the same round trip and transaction
        (a pipeline), and a failure of either undoes both."""

        async def execute() -> list[dict[str, Any]]:
            if first is None:
                cursor = await self.conn.execute(query(name), params)
            else:
                async with self.conn.pipeline():
                    await self.conn.execute(query(first[0]), first[1])
                    cursor = await self.conn.execute(query(name), params)
            return await cursor.fetchall() if cursor.description else []

        what = name if first is None else f"{first[0]} + {name}"
        rows = await bounded(execute(), self.timeout, what)
        self.heartbeat.beat()
        return rows

    async def claim(
        self, batch_size: int, lease: float, delivered: Sequence[int] = ()
    ) -> list[OutboxMessage]:
        """Due rows for ``lease`` seconds, in order. The ``delivered`` rows are marked
        first, in the same transaction and round trip: the claim then sees them delivered."""
        params = {"batch_size": batch_size, "lease": timedelta(seconds=lease)}
        first = ("relay_delivered", {"ids": list(delivered)}) if delivered else None
        rows = await self._run("relay_claim", params, first=first)
        return [OutboxMessage.from_row(row) for row in rows]

    async def delivered(self, ids: Sequence[int]) -> int:
        return int(await self._scalar("relay_delivered", {"ids": list(ids)}))

    async def failed(self, outbox_id: int, claim_id: UUID, error: str, delay: float | None) -> bool:
        """A retry after ``delay`` seconds, or a dead letter (None). False: not our claim."""
        interval = None if delay is None else timedelta(seconds=delay)
        # Text from receivers: PostgreSQL text holds no NUL, last_error at most 2000 chars.
        error = error.replace("\x00", "\\0")[:MAX_ERROR_CHARS]
        params = {"id": outbox_id, "claim_id": claim_id, "error": error, "delay": interval}
        return bool(await self._scalar("relay_failed", params))

    async def failed_many(self, outcomes: Sequence[FailedDelivery]) -> list[int]:
        """Each failed row a retry after its delay, or a dead letter (no delay), in one
        call. Returns the rows whose claim was still ours."""
        params = {
            "ids": [o.message.id for o in outcomes],
            "claim_ids": [o.message.claim_id for o in outcomes],
            # Text from receivers: PostgreSQL text holds no NUL, last_error 2000 characters.
            "errors": [
                (o.error or "failed").replace("\x00", "\\0")[:MAX_ERROR_CHARS] for o in outcomes
            ],
            "delays": [None if o.delay is None else timedelta(seconds=o.delay) for o in outcomes],
        }
        decided = await self._scalar("relay_failed_many", params)
        return [int(i) for i in decided]

    async def release(self, claim_id: UUID, ids: Sequence[int]) -> list[int]:
        """Give back claimed rows; returns those still ours (another relay may hold the rest)."""
        released = await self._scalar("relay_release", {"claim_id": claim_id, "ids": list(ids)})
        return [int(i) for i in released]

    async def awake(self) -> bool:
        """Say that this relay drains (writers skip their NOTIFY); False if it could not."""
        return bool(await self._scalar("relay_awake", {}))

    async def not_awake(self) -> None:
        """Stop saying so: writers notify again."""
        await self._scalar("relay_not_awake", {})

    async def fence(self, timeout: float) -> bool:
        """Wait for the writers in flight, who may have skipped their NOTIFY.

        True once they all committed: a claim now sees every row no NOTIFY announced.
        False if one stayed in flight past ``timeout`` seconds.
        """

        async def fence() -> None:
            async with self.conn.transaction():
                milliseconds = f"{max(1, round(timeout * 1000))}ms"
                await self.conn.execute(query("relay_fence_timeout"), {"timeout": milliseconds})
                await self.conn.execute(query("relay_fence"))

        try:
            await bounded(fence(), timeout + self.timeout, "relay_fence")
        except psycopg.errors.LockNotAvailable:
            return False
        self.heartbeat.beat()
        return True

    async def stats(self) -> OutboxStats:
        [row] = await self._run("outbox_stats", {})
        return OutboxStats.from_row(row)

    async def ping(self) -> None:
        await self._run("relay_ping", {})

    async def _scalar(self, name: str, params: dict[str, Any]) -> Any:
        [row] = await self._run(name, params)
        return next(iter(row.values()))
