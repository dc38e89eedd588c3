"""Where notifications go. Write your own sink by subclassing :class:`Sink`.

A sink gets each claimed row as an :class:`~pyproj_rpc.relay.messages.OutboxMessage` and
answers with a :class:`SinkResult`: accepted, retry later (optionally after
``retry_after`` seconds), or rejected for good (the row is dead-lettered). An exception
counts as "retry later". A row is delivered once every sink of the relay accepted it;
when one sink asks for a retry, the next attempt goes to every sink again, so a sink may
see a row more than once (at-least-once): use ``message.webhook_id`` to deduplicate.

Example::

    class SlackSink(Sink):
        name = "slack"

        async def deliver(self, message: OutboxMessage) -> SinkResult:
            ok = await post_to_slack(message.payload)
            return SinkResult.accepted() if ok else SinkResult.retry("slack said no")

    Relay(config, sinks=[SlackSink()]).run()
"""

from __future__ import annotations

import asyncio
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO

from pyproj_rpc.relay.messages import OutboxMessage


class Verdict(StrEnum):
    """A sink's answer for one row."""

    ACCEPTED = "accepted"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True)
class SinkResult:
    """The outcome of handing one row to one sink."""

    verdict: Verdict
    error: str | None = None
    retry_after: float | None = None  # seconds the sink asked us to wait at least

    @classmethod
    def accepted(cls) -> SinkResult:
        return cls(Verdict.ACCEPTED)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> SinkResult:
        """Failed this time; try again later (no sooner than ``retry_after`` seconds)."""
        return cls(Verdict.RETRY, error, retry_after)

    @classmethod
    def rejected(cls, error: str) -> SinkResult:
        """Failed for good: the row is dead-lettered without further attempts."""
        return cls(Verdict.REJECTED, error)


class Sink(ABC):
    """A destination for notifications.

    ``open`` runs once before the first delivery and ``close`` once at shutdown (both
    optional). ``deliver`` may run concurrently for different rows. ``timeout`` bounds
    one ``deliver`` call; the relay gives up on it after that long (a retry).
    """

    name: str = "sink"
    timeout: float | None = None

    async def open(self) -> None:  # noqa: B027 (optional hook)
        """Acquire resources (an HTTP client, a file)."""

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release what :meth:`open` acquired."""

    @abstractmethod
    async def deliver(self, message: OutboxMessage) -> SinkResult:
        """Hand one row to the destination."""


class StdoutSink(Sink):
    """Each row as one line of JSON (the envelope) on standard output, for pipes and demos."""

    name = "stdout"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        stream = self.stream or sys.stdout
        stream.write(message.body.decode() + "\n")
        stream.flush()
        return SinkResult.accepted()


class FunctionSink(Sink):
    """A plain function called with each row (in a worker thread, so it may block).

    It accepts the row unless it raises (a retry) or returns a :class:`SinkResult`.
    """

    def __init__(
        self,
        function: Callable[[OutboxMessage], SinkResult | None],
        *,
        name: str = "function",
        timeout: float | None = None,
    ) -> None:
        self.function = function
        self.name = name
        self.timeout = timeout

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        result = await asyncio.to_thread(self.function, message)
        return result if result is not None else SinkResult.accepted()
