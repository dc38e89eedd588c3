"""The relay delivers every outbox row at least once: real processes, HTTP and PostgreSQL."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from collections.abc import Sequence

import psycopg
import pytest
from standardwebhooks.webhooks import Webhook

from pyproj_rpc.relay import FunctionSink, OutboxMessage, Relay, RelayConfig, WebhookSecret
from pyproj_rpc.relay.store import Outbox
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
from tests.support import World, call


def test_rows_written_while_no_relay_runs_are_delivered_when_one_starts(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    before = pause_mentors(url, 3)
    # A long poll interval: only the start-up scan and the wake-ups can deliver here.
    relays.start(url, *FAST, "--poll-interval", "1h", *webhook_args(receiver, secret))
    eventually(lambda: set(receiver.ids()) >= {f"msg_{i}" for i in before}, "the backlog")
    after = pause_mentors(url, 2)
    eventually(lambda: all_delivered(url), "rows written while the relay runs")
    assert sorted(receiver.ids()) == sorted(f"msg_{i}" for i in before + after)
    rows = outbox_rows(url)
    for request in receiver.received():
        # An independent implementation of the spec accepts the signature.
        document = Webhook(secret).verify(request.body, request.headers)
        row = rows[request.outbox_id]
        assert document["id"] == request.webhook_id
        assert document["type"] == "mentoring.status_changed"
        assert document["data"] == row["payload"]
        assert request.headers["content-type"] == "application/json"
        assert row["delivered_at"] is not None
        assert row["attempts"] == 1


def test_receivers_verify_with_the_old_or_the_new_secret_during_a_rotation(
    isolated_db: Database, receiver: Receiver, relays: Relays
) -> None:
    old, new = str(WebhookSecret.generate()), str(WebhookSecret.generate())
    pause_mentors(isolated_db.url, 1)
    relays.start(isolated_db.url, *FAST, *webhook_args(receiver, old, new))
    [request] = eventually(receiver.received, "a request")
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    for receivers_secret in (old, new):
        Webhook(receivers_secret).verify(request.body, request.headers)


def test_rows_of_one_mentor_arrive_in_sequence_order(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        mentor = org.mentor(coordinators=(coordinator,))
        for _ in range(3):
            call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="away")
            call(conn, coordinator, "lift_pause", mentor_id=mentor.id)
        conn.commit()
    relays.start(isolated_db.url, *FAST, "--concurrency", "4", *webhook_args(receiver, secret))
    eventually(lambda: all_delivered(isolated_db.url), "every row")
    # The coordinator lifted the pauses: they hear only of the mentor's own pauses.
    sequences = [r.document["data"]["sequence"] for r in receiver.received()]
    assert sequences == [1, 3, 5]


def test_a_relay_killed_mid_batch_loses_nothing_and_repeats_only_rows_in_flight(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 8)
    args = [*FAST, "--timeout", "1s", "--lease", "5s", "--batch-size", "4", "--concurrency", "1"]
    receiver.answer(Reply(), Reply(), Reply(), Reply(), Reply(), Reply(hold=True))
    first = relays.start(url, *args, *webhook_args(receiver, secret))
    eventually(lambda: len(receiver.received()) == 6, "the sixth request, held")
    first.process.kill()  # SIGKILL: no chance to release anything
    first.wait()
    rows = outbox_rows(url)
    in_flight = {f"msg_{i}" for i, r in rows.items() if r["claim_id"] and not r["delivered_at"]}
    assert f"msg_{ids[5]}" in in_flight
    receiver.release()

    relays.start(url, *args, *webhook_args(receiver, secret))
    eventually(lambda: all_delivered(url), "every row, after the leases ran out")
    counts = Counter(receiver.ids())
    assert set(counts) == {f"msg_{i}" for i in ids}
    repeated = {webhook_id for webhook_id, count in counts.items() if count > 1}
    assert repeated <= in_flight
    for webhook_id in repeated:  # same id, same body: the receiver can deduplicate
        bodies = {r.body for r in receiver.received() if r.webhook_id == webhook_id}
        assert len(bodies) == 1


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_row_in_flight_releases_the_others_and_exits_0(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str, stop: signal.Signals
) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 5)
    receiver.answer(Reply(), Reply(hold=True))
    relay = relays.start(
        url, *FAST, "--timeout", "20s", "--concurrency", "1", *webhook_args(receiver, secret)
    )
    eventually(lambda: len(receiver.received()) == 2, "the second request, held")
    relay.send(stop)
    relay.wait_for_event("stopping")
    receiver.release()  # the row in flight now succeeds
    assert relay.wait() == 0
    rows = outbox_rows(url)
    assert [rows[i]["delivered_at"] is not None for i in ids] == [True, True, False, False, False]
    for untouched in ids[2:]:
        assert (rows[untouched]["claim_id"], rows[untouched]["attempts"]) == (None, 0)
    assert len(receiver.received()) == 2
    assert len(relay.events("released")) == 3
    assert relay.events("stopped")[0]["delivered"] == 2


def test_a_second_signal_cancels_the_delivery_in_flight_and_releases_its_row(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    receiver.answer(Reply(hold=True))
    relay = relays.start(url, *FAST, "--timeout", "20s", *webhook_args(receiver, secret))
    eventually(receiver.received, "the request, held")
    relay.send(signal.SIGTERM)
    relay.wait_for_event("stopping")
    relay.send(signal.SIGTERM)
    assert relay.wait() == 0
    row = outbox_rows(url)[only]
    assert (row["delivered_at"], row["claim_id"], row["attempts"]) == (None, None, 0)
    assert relay.events("released")[0]["outbox_id"] == only


def test_two_relays_over_one_backlog_deliver_each_row_once(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 40)
    args = [*FAST, "--batch-size", "3", "--concurrency", "2", *webhook_args(receiver, secret)]
    first, second = relays.start(url, *args), relays.start(url, *args)
    eventually(lambda: all_delivered(url), "every row")
    counts = Counter(receiver.ids())
    assert counts == Counter({f"msg_{i}": 1 for i in ids})
    delivered_by = [len(relay.events("delivered")) for relay in (first, second)]
    assert sum(delivered_by) == len(ids)


def test_deliveries_reuse_the_connection_to_the_receiver(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    pause_mentors(isolated_db.url, 5)
    relays.start(isolated_db.url, *FAST, "--concurrency", "1", *webhook_args(receiver, secret))
    eventually(lambda: all_delivered(isolated_db.url), "every row")
    assert len({request.client_port for request in receiver.received()}) == 1


def test_a_row_counts_as_delivered_only_once_every_sink_accepted_it(
    isolated_db: Database, relays: Relays, secret: str
) -> None:
    [only] = pause_mentors(isolated_db.url, 1)
    with Receiver() as healthy, Receiver() as flaky:
        flaky.answer(Reply(503))
        relays.start(
            isolated_db.url, *FAST, *webhook_args(healthy, secret), *webhook_args(flaky, secret)
        )
        eventually(lambda: all_delivered(isolated_db.url), "the row")
        row = outbox_rows(isolated_db.url)[only]
        assert row["attempts"] == 2
        assert len(flaky.received()) == 2
        # At least once: the retry went to the sink that had accepted, too.
        assert healthy.ids() == [f"msg_{only}", f"msg_{only}"]


def test_the_relay_needs_no_superuser_only_the_outbox_functions(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    role = f"relay_login_{isolated_db.name}"
    with psycopg.connect(isolated_db.url, autocommit=True) as admin:
        admin.execute(f"create role {role} login noinherit")
        admin.execute(f"grant mentoring_relay to {role}")
    try:
        url = isolated_db.url.replace("postgresql://postgres@", f"postgresql://{role}@")
        pause_mentors(isolated_db.url, 2)
        refused = relays.start(url, *FAST, "--once", *webhook_args(receiver, secret))
        assert refused.wait() == 2  # a setup problem, said clearly
        assert "pass --role mentoring_relay" in refused.output()
        relays.start(url, *FAST, "--role", "mentoring_relay", *webhook_args(receiver, secret))
        eventually(lambda: all_delivered(isolated_db.url), "every row, as mentoring_relay")
        with psycopg.connect(url, autocommit=True) as relay_login:
            relay_login.execute("set role mentoring_relay")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                relay_login.execute("update mentoring.mentors set status = 'expired_cert'")
    finally:
        relays.close()
        with psycopg.connect(isolated_db.url, autocommit=True) as admin:
            admin.execute(f"drop role {role}")


def test_marks_a_failed_claim_carried_are_recorded_later_and_nothing_is_sent_twice(
    isolated_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows a batch delivered are marked by the next claim, in its transaction; when
    that claim fails, the marks wait in the ledger and are recorded on the next connection."""
    url = isolated_db.url
    written = pause_mentors(url, 3)
    carried: list[list[int]] = []
    claim = Outbox.claim

    async def claim_failing_once(
        self: Outbox, batch_size: int, lease: float, delivered: Sequence[int] = ()
    ) -> list[OutboxMessage]:
        if delivered and not carried:
            carried.append(list(delivered))
            raise psycopg.OperationalError("the server went away")
        return await claim(self, batch_size, lease, delivered)

    monkeypatch.setattr(Outbox, "claim", claim_failing_once)
    sent: list[int] = []
    relay = Relay(
        RelayConfig(database_url=url, retention=None, reconnect_base=0.01, reconnect_cap=0.05),
        [FunctionSink(lambda message: sent.append(message.id))],
    )
    worker = threading.Thread(target=relay.run)
    worker.start()
    try:
        eventually(lambda: all_delivered(url), "the rows, marked after the failed claim")
    finally:
        relay.stop()
        worker.join(30)
    assert sorted(carried[0]) == sorted(written)
    assert Counter(sent) == Counter(written)
    assert {row["attempts"] for row in outbox_rows(url).values()} == {1}
