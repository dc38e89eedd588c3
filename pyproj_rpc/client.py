"""Typed clients over the RPC contract, sync and async.

A client calls the ``api`` functions as one identity, exactly as PostgREST would for
that user's JWT: the database's privileges, RLS and state machine decide everything.

    with PauseManagementClient("postgresql://...", identity=Identity.user(uid)) as client:
        result = client.activate_pause(mentor_id, reason="exams")
        print(result.status)  # MentorStatus.PAUSED

A client takes a URL (it opens one connection, closed by :meth:`close`), a psycopg
connection (used as is: inside an open transaction each call is a savepoint), or a
``psycopg_pool`` pool (one pooled connection per call). Refusals raise the
:class:`~pyproj_rpc.api_errors.PauseManagementError` subclass of their code.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from pyproj_rpc import calls, rpc
from pyproj_rpc.identity import Identity
from pyproj_rpc.models import (
    CurrentStatus,
    MentorStatus,
    PausedMentor,
    PauseHistory,
    TransitionResult,
)

T = TypeVar("T")

Source = str | psycopg.Connection[Any] | ConnectionPool[Any]
AsyncSource = str | psycopg.AsyncConnection[Any] | AsyncConnectionPool[Any]


class _Connections:
    """Hands out connections from a URL (one, opened lazily), a connection, or a pool."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.owned: psycopg.Connection[Any] | None = None

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self.source, ConnectionPool):
            with self.source.connection() as conn:
                yield conn
        elif isinstance(self.source, psycopg.Connection):
            yield self.source
        else:
            if self.owned is None or self.owned.closed:
                self.owned = psycopg.connect(self.source)
            yield self.owned

    def close(self) -> None:
        if self.owned is not None:
            self.owned.close()
            self.owned = None


class _AsyncConnections:
    """The async :class:`_Connections`."""

    def __init__(self, source: AsyncSource) -> None:
        self.source = source
        self.owned: psycopg.AsyncConnection[Any] | None = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if isinstance(self.source, AsyncConnectionPool):
            async with self.source.connection() as conn:
                yield conn
        elif isinstance(self.source, psycopg.AsyncConnection):
            yield self.source
        else:
            if self.owned is None or self.owned.closed:
                self.owned = await psycopg.AsyncConnection.connect(self.source)
            yield self.owned

    async def close(self) -> None:
        if self.owned is not None:
            await self.owned.close()
            self.owned = None


class _Acting:
    """Who a client acts as; ``as_identity`` shares everything else."""

    identity: Identity

    def as_identity(self, identity: Identity) -> Self:
        """The same client, acting as someone else (sharing the connection)."""
        other = copy.copy(self)
        other.identity = identity
        return other


class PauseManagementClient(_Acting):
    """The RPC contract as typed methods, called as ``identity``."""

    def __init__(self, source: Source, *, identity: Identity) -> None:
        self._connections = _Connections(source)
        self.identity = identity

    def close(self) -> None:
        """Close the connection this client opened from a URL, if any."""
        self._connections.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def run(self, call: calls.Call[T]) -> T:
        """Run any :class:`~pyproj_rpc.calls.Call` as this client's identity."""
        with self._connections.connection() as conn:
            rows = rpc.call(conn, self.identity, call.function, call.arguments, method=call.method)
        return call.parse(rows)

    def activate_pause(
        self,
        mentor_id: UUID | str,
        reason: str,
        *,
        expected_return_date: date | str | None = None,
        force: bool = False,
        idempotency_key: UUID | str | None = None,
    ) -> TransitionResult:
        """Pause an active mentor (``force``: staff only, overrides blocking preconditions)."""
        return self.run(
            calls.activate_pause(mentor_id, reason, expected_return_date, force, idempotency_key)
        )

    def lift_pause(
        self,
        mentor_id: UUID | str,
        reason: str | None = None,
        *,
        idempotency_key: UUID | str | None = None,
    ) -> TransitionResult:
        """End a paused mentor's pause (paused -> active)."""
        return self.run(calls.lift_pause(mentor_id, reason, idempotency_key))

    def reactivate_mentor(
        self,
        mentor_id: UUID | str,
        reason: str | None = None,
        *,
        idempotency_key: UUID | str | None = None,
    ) -> TransitionResult:
        """Make a paused or expired_cert mentor active again."""
        return self.run(calls.reactivate_mentor(mentor_id, reason, idempotency_key))

    def auto_expire_for_certification(self, mentor_id: UUID | str) -> TransitionResult:
        """Expire a mentor whose certification lapsed (a no-op if already expired)."""
        return self.run(calls.auto_expire_for_certification(mentor_id))

    def get_current_status(self, mentor_id: UUID | str) -> CurrentStatus:
        """Status, open pause, certification, and what this caller may do now."""
        return self.run(calls.get_current_status(mentor_id))

    def get_pause_history(self, mentor_id: UUID | str) -> PauseHistory:
        """Pauses and status events, newest first."""
        return self.run(calls.get_pause_history(mentor_id))

    def get_paused_mentors(self, coordinator_id: UUID | str | None = None) -> list[PausedMentor]:
        """Paused mentors of a coordinator (default: this caller; for the service: all)."""
        return self.run(calls.get_paused_mentors(coordinator_id))

    def is_transition_allowed(
        self, current_status: MentorStatus | str, target_status: MentorStatus | str
    ) -> bool:
        """Whether the state machine has this transition for anyone."""
        return self.run(calls.is_transition_allowed(current_status, target_status))

    def expire_lapsed_certifications(self, batch_size: int = 500) -> int:
        """One batch of the expiry sweep (service: everyone; admin: their organizations).

        Returns how many mentors it expired; call again until it returns less than
        ``batch_size``.
        """
        return self.run(calls.expire_lapsed_certifications(batch_size))


class AsyncPauseManagementClient(_Acting):
    """:class:`PauseManagementClient` for asyncio."""

    def __init__(self, source: AsyncSource, *, identity: Identity) -> None:
        self._connections = _AsyncConnections(source)
        self.identity = identity

    async def close(self) -> None:
        """Close the connection this client opened from a URL, if any."""
        await self._connections.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(self, call: calls.Call[T]) -> T:
        """Run any :class:`~pyproj_rpc.calls.Call` as this client's identity."""
        async with self._connections.connection() as conn:
            rows = await rpc.call_async(
                conn, self.identity, call.function, call.arguments, method=call.method
            )
        return call.parse(rows)

    async def activate_pause(
        self,
        mentor_id: UUID | str,
        reason: str,
        *,
        expected_return_date: date | str | None = None,
        force: bool = False,
        idempotency_key: UUID | str | None = None,
    ) -> TransitionResult:
        """Pause an active mentor (``force``: staff only, overrides blocking preconditions)."""
        return await self.run(
            calls.activate_pause(mentor_id, reason, expected_return_date, force, idempotency_key)
        )

    async def lift_pause(
        self,
        mentor_id: UUID | str,
        reason: str | None = None,
        *,
        idempotency_key: UUID | str | None = None,
    ) -> TransitionResult:
        """End a paused mentor's pause (paused -> active)."""
        return await self.run(calls.lift_pause(mentor_id, reason, idempotency_key))

    async def reactivate_mentor(
        self,
        mentor_id: UUID | str,
        reason: str | None = None,
        *,
        idempotency_key: UUID | str | None = None,
    ) -> TransitionResult:
        """Make a paused or expired_cert mentor active again."""
        return await self.run(calls.reactivate_mentor(mentor_id, reason, idempotency_key))

    async def auto_expire_for_certification(self, mentor_id: UUID | str) -> TransitionResult:
        """Expire a mentor whose certification lapsed (a no-op if already expired)."""
        return await self.run(calls.auto_expire_for_certification(mentor_id))

    async def get_current_status(self, mentor_id: UUID | str) -> CurrentStatus:
        """Status, open pause, certification, and what this caller may do now."""
        return await self.run(calls.get_current_status(mentor_id))

    async def get_pause_history(self, mentor_id: UUID | str) -> PauseHistory:
        """Pauses and status events, newest first."""
        return await self.run(calls.get_pause_history(mentor_id))

    async def get_paused_mentors(
        self, coordinator_id: UUID | str | None = None
    ) -> list[PausedMentor]:
        """Paused mentors of a coordinator (default: this caller; for the service: all)."""
        return await self.run(calls.get_paused_mentors(coordinator_id))

    async def is_transition_allowed(
        self, current_status: MentorStatus | str, target_status: MentorStatus | str
    ) -> bool:
        """Whether the state machine has this transition for anyone."""
        return await self.run(calls.is_transition_allowed(current_status, target_status))

    async def expire_lapsed_certifications(self, batch_size: int = 500) -> int:
        """One batch of the expiry sweep; see the sync client."""
        return await self.run(calls.expire_lapsed_certifications(batch_size))
