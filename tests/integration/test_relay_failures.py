"""A failing receiver: retries on schedule, then dead letters; `outbox retry` brings them back."""

from __future__ import annotations

from click.testing import CliRunner

from pyproj_rpc.cli import main
from tests.conftest import Database
from tests.relay_support import (
    FAST,
    Receiver,
    Relays,
    Reply,
    all_delivered,
    eventually,
    outbox_rows,
    pause_mentors,
    webhook_args,
)

BASE, CAP = 0.05, 0.2  # FAST's --backoff-base and --backoff-cap


def dead(url: str, outbox_id: int) -> bool:
    return outbox_rows(url)[outbox_id]["dead_at"] is not None


def test_server_errors_are_retried_with_backoff_then_dead_lettered_and_retry_requeues(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    receiver.answer_always(Reply(500))
    relay = relays.start(url, *FAST, "--max-attempts", "4", *webhook_args(receiver, secret))
    eventually(lambda: dead(url, only), "the dead letter")
    assert receiver.ids() == [f"msg_{only}"] * 4  # one id across retries
    row = outbox_rows(url)[only]
    assert (row["attempts"], row["last_error"]) == (4, "HTTP 500: ok")
    retries = relay.events("retry")
    assert [r["attempt"] for r in retries] == [1, 2, 3]
    for retry in retries:  # full jitter within the exponential ceiling
        assert 0 <= retry["retry_in"] <= min(CAP, BASE * 2 ** (retry["attempt"] - 1))
    [final] = relay.events("dead_lettered")
    assert (final["attempt"], final["reason"], final["error"]) == (
        4,
        "max_attempts",
        "HTTP 500: ok",
    )

    receiver.answer_always(Reply(200))
    result = CliRunner().invoke(main, ["outbox", "retry", "--database-url", url])
    assert (result.exit_code, result.stdout) == (0, "requeued 1 dead-lettered row\n")
    eventually(lambda: all_delivered(url), "the requeued row")
    assert outbox_rows(url)[only]["attempts"] == 1


def test_a_receiver_slower_than_the_timeout_is_retried(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    receiver.answer(Reply(hold=True))
    relay = relays.start(url, *FAST, "--timeout", "300ms", *webhook_args(receiver, secret))
    eventually(lambda: all_delivered(url), "delivery on the second attempt")
    [retry] = relay.events("retry")
    assert retry["error"] == "timeout after 0.3s"
    assert outbox_rows(url)[only]["attempts"] == 2


def test_429_with_retry_after_postpones_the_next_attempt(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    pause_mentors(url, 1)
    receiver.answer(Reply(429, {"retry-after": "1"}))
    relay = relays.start(url, *FAST, *webhook_args(receiver, secret))
    eventually(lambda: all_delivered(url), "delivery after the wait")
    [retry] = relay.events("retry")
    assert retry["retry_in"] >= 1.0  # not the 50 ms backoff
    first, second = receiver.received()
    assert second.received_at - first.received_at >= 1.0


def test_410_gone_dead_letters_at_once(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    receiver.answer(Reply(410))
    relay = relays.start(url, *FAST, *webhook_args(receiver, secret))
    eventually(lambda: dead(url, only), "the dead letter")
    row = outbox_rows(url)[only]
    assert (row["attempts"], row["last_error"]) == (1, "HTTP 410: ok")
    assert relay.events("dead_lettered")[0]["reason"] == "gone"
    assert len(receiver.received()) == 1


def test_a_row_older_than_max_age_is_dead_lettered_on_failure(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    with isolated_db.connect() as conn:
        conn.execute("update mentoring.outbox set created_at = now() - interval '2 hours'")
    receiver.answer_always(Reply(503))
    relay = relays.start(url, *FAST, "--max-age", "1h", *webhook_args(receiver, secret))
    eventually(lambda: dead(url, only), "the dead letter")
    assert relay.events("dead_lettered")[0]["reason"] == "max_age"
    assert len(receiver.received()) == 1
