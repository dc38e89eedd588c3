"""The relay's side of the database: connections, and the outbox functions of revision 0003.

Every call is one short autocommit statement: no transaction stays open while a
delivery goes over the network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import query
from pyproj_rpc.relay.messages import OutboxMessage

# Errors after which a new connection may succeed: the server went away, restarted, or
# cancelled us. Anything else (no such function, no privilege) is a setup problem.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)

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
        if role:
            await conn.execute(query("relay_set_role"), {"role": role})
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
    """The outbox functions on one autocommit connection."""

    def __init__(self, conn: AsyncConn) -> None:
        self.conn = conn

    async def claim(self, batch_size: int, lease: float) -> list[OutboxMessage]:
        """Due rows for ``lease`` seconds, oldest first."""
        cursor = await self.conn.execute(
            query("relay_claim"), {"batch_size": batch_size, "lease": timedelta(seconds=lease)}
        )
        return [OutboxMessage.from_row(row) for row in await cursor.fetchall()]

    async def delivered(self, ids: Sequence[int]) -> int:
        return int(await self._scalar("relay_delivered", {"ids": list(ids)}))

    async def failed(self, outbox_id: int, claim_id: UUID, error: str, delay: float | None) -> bool:
        """A retry after ``delay`` seconds, or a dead letter (None). False: not our claim."""
        interval = None if delay is None else timedelta(seconds=delay)
        # Text from receivers: PostgreSQL text holds no NUL, last_error at most 2000 chars.
        error = error.replace("\x00", "\\0")[:MAX_ERROR_CHARS]
        params = {"id": outbox_id, "claim_id": claim_id, "error": error, "delay": interval}
        return bool(await self._scalar("relay_failed", params))

    async def release(self, claim_id: UUID, ids: Sequence[int]) -> int:
        return int(await self._scalar("relay_release", {"claim_id": claim_id, "ids": list(ids)}))

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
        try:
            async with self.conn.transaction():
                milliseconds = f"{max(1, round(timeout * 1000))}ms"
                await self.conn.execute(query("relay_fence_timeout"), {"timeout": milliseconds})
                await self.conn.execute(query("relay_fence"))
        except psycopg.errors.LockNotAvailable:
            return False
        return True

    async def stats(self) -> OutboxStats:
        cursor = await self.conn.execute(query("outbox_stats"))
        row = await cursor.fetchone()
        assert row is not None
        return OutboxStats.from_row(row)

    async def _scalar(self, name: str, params: dict[str, Any]) -> Any:
        cursor = await self.conn.execute(query(name), params)
        row = await cursor.fetchone()
        assert row is not None
        return next(iter(row.values()))
