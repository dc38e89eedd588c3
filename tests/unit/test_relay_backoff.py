"""Retry timing: exponential backoff with full jitter, Retry-After, dead-lettering."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pyproj_rpc.relay.backoff import RetryPolicy, full_jitter, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def seeded(seed: int) -> random.Random:
    """Repeatable jitter."""
    return random.Random(seed)  # noqa: S311 (spread, not secrecy)


POLICY = RetryPolicy(max_attempts=5, max_age=3600.0, base=1.0, cap=10.0)


def test_each_retry_waits_up_to_twice_as_long_as_the_one_before_until_the_cap() -> None:
    rng = seeded(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (30, 10.0)]:
        delays = [full_jitter(attempt, 1.0, 10.0, rng) for _ in range(500)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.9 * ceiling  # the whole range is used: full jitter
        assert min(delays) < 0.1 * ceiling


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert full_jitter(10_000, 1.0, 10.0, seeded(1)) <= 10.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # a date in the past: now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_a_failure_is_retried_after_a_jittered_delay() -> None:
    decision = POLICY.after_failure(
        attempt=2, created_at=NOW, permanent=False, now=NOW, rng=seeded(3)
    )
    assert not decision.dead
    assert decision.delay is not None
    assert 0.0 <= decision.delay <= 2.0


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    decision = POLICY.after_failure(
        attempt=1, created_at=NOW, permanent=False, retry_after=30.0, now=NOW
    )
    assert decision.delay == 30.0


def test_the_last_attempt_dead_letters() -> None:
    decision = POLICY.after_failure(attempt=5, created_at=NOW, permanent=False, now=NOW)
    assert (decision.dead, decision.reason) == (True, "max_attempts")


def test_a_row_older_than_max_age_dead_letters_on_its_next_failure() -> None:
    decision = POLICY.after_failure(
        attempt=1, created_at=NOW - timedelta(hours=2), permanent=False, now=NOW
    )
    assert (decision.dead, decision.reason) == (True, "max_age")


def test_no_retry_is_scheduled_past_max_age() -> None:
    created = NOW - timedelta(seconds=3590)
    decision = POLICY.after_failure(
        attempt=1, created_at=created, permanent=False, retry_after=600.0, now=NOW
    )
    assert decision.delay == pytest.approx(10.0)  # one last attempt at the deadline


def test_a_permanent_refusal_dead_letters_at_once() -> None:
    decision = POLICY.after_failure(attempt=1, created_at=NOW, permanent=True, now=NOW)
    assert (decision.dead, decision.reason) == (True, "gone")


def test_without_max_age_only_attempts_count() -> None:
    policy = RetryPolicy(max_attempts=3, max_age=None, base=1.0, cap=1.0)
    decision = policy.after_failure(
        attempt=2, created_at=NOW - timedelta(days=365), permanent=False, now=NOW
    )
    assert not decision.dead
