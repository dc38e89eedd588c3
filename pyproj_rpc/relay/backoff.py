"""When to try a failed delivery again: exponential backoff with full jitter.

A row's n-th failed attempt waits a random time between 0 and ``min(cap, base * 2**(n-1))``
("full jitter": relays and receivers recovering together do not retry in lockstep), or
longer when the receiver said so with ``Retry-After``. A row is dead-lettered once it
failed ``max_attempts`` times, once it is older than ``max_age``, or at once when a sink
refused it for good (HTTP 410); no retry is ever scheduled past its ``max_age``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Full jitter needs no cryptographic randomness, only spread.
_default_random = random.Random()  # noqa: S311


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """A random delay in [0, min(cap, base * 2**(attempt-1))] seconds (attempt counts from 1)."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    ceiling = cap if attempt > 64 else min(cap, base * 2.0 ** (attempt - 1))
    return (rng or _default_random).uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    None when absent or unreadable; a date in the past means 0.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Decision:
    """What happens to a row after a failed attempt: a retry in ``delay`` seconds, or death."""

    delay: float | None  # None: dead-letter
    reason: str  # why: "retry", "gone", "max_attempts", "max_age"

    @property
    def dead(self) -> bool:
        return self.delay is None


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a failing row is retried."""

    max_attempts: int = 10
    max_age: float | None = 86400.0
    base: float = 5.0
    cap: float = 3600.0

    def after_failure(
        self,
        *,
        attempt: int,
        created_at: datetime,
        permanent: bool,
        retry_after: float | None = None,
        now: datetime | None = None,
        rng: random.Random | None = None,
    ) -> Decision:
        """The decision after the ``attempt``-th attempt (counting from 1) failed."""
        now = now or datetime.now(UTC)
        deadline = (
            created_at + timedelta(seconds=self.max_age) if self.max_age is not None else None
        )
        if permanent:
            return Decision(None, "gone")
        if attempt >= self.max_attempts:
            return Decision(None, "max_attempts")
        if deadline is not None and now >= deadline:
            return Decision(None, "max_age")
        delay = full_jitter(attempt, self.base, self.cap, rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if deadline is not None:
            # One last attempt at the deadline rather than a retry nobody will make.
            delay = min(delay, (deadline - now).total_seconds())
        return Decision(delay, "retry")
