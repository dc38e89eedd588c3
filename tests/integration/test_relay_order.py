"""One mentor's notifications are delivered in sequence order, with exact limits.

- Rows are claimed in the order of the changes (their ids), whatever the timing of the
  transactions that wrote them.
- A row waits while an earlier row of its mentor is undelivered (in flight on any relay,
  or waiting for a retry): a retry holds the mentor's later rows back.
- A dead letter stops holding: the rows after it go on (it arrives out of order only if
  it is brought back with ``pyproj-rpc outbox retry``).
- Different mentors' rows are not ordered with each other.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import psycopg

from pyproj_rpc.relay import FunctionSink, OutboxMessage, Relay, RelayConfig
from tests.conftest import Database
from tests.relay_support import (
    FAST,
    Receiver,
    Relays,
    Reply,
    all_delivered,
    eventually,
    webhook_args,
)
from tests.support import Mentor, World, call, in_background, wait_until_blocked


def mentor_with_two_coordinators(database: Database) -> tuple[Mentor, Any, Any]:
    with database.connect() as conn:
        org = World(conn).organization()
        first, second = org.coordinator(), org.coordinator()
        mentor = org.mentor(coordinators=(first, second))
        conn.commit()
    return mentor, first, second


def sequences(receiver: Receiver) -> list[int]:
    return [r.document["data"]["sequence"] for r in receiver.received()]


def test_the_change_committed_second_is_delivered_second_though_its_transaction_began_first(
    isolated_db: Database, relays: Relays
) -> None:
    mentor, first, second = mentor_with_two_coordinators(isolated_db)
    with isolated_db.connect() as early:
        early.execute("select now()")  # its transaction starts before the other change
        with isolated_db.connect() as late:
            call(late, first, "activate_pause", mentor_id=mentor.id, reason="T1")
            late.commit()
        call(early, second, "lift_pause", mentor_id=mentor.id, reason="T2")
        early.commit()
    relay = relays.start(isolated_db.url, *FAST, "--stdout", "--once")
    assert relay.wait() == 0
    delivered = [json.loads(line)["data"] for line in relay.stdout_lines()]
    assert [(d["sequence"], d["reason"]) for d in delivered] == [(1, "T1"), (2, "T2")]
    stamps = [json.loads(line)["timestamp"] for line in relay.stdout_lines()]
    assert stamps == sorted(stamps)


def test_a_retry_holds_the_mentors_later_notifications_back(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        mentor = org.mentor(coordinators=(coordinator,))
        for _ in range(3):  # sequences 1, 3, 5 reach the coordinator (the mentor pauses)
            call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="away")
            call(conn, coordinator, "lift_pause", mentor_id=mentor.id)
        conn.commit()
    receiver.answer(Reply(status=503), Reply(status=503))  # the first notification, twice
    relays.start(isolated_db.url, *FAST, "--concurrency", "4", *webhook_args(receiver, secret))
    eventually(lambda: all_delivered(isolated_db.url), "every row")
    assert sequences(receiver) == [1, 1, 1, 3, 5]


def test_a_dead_letter_stops_holding_the_notifications_after_it(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        mentor = org.mentor(coordinators=(coordinator,))
        for _ in range(2):
            call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="away")
            call(conn, coordinator, "lift_pause", mentor_id=mentor.id)
        conn.commit()
    receiver.answer(Reply(status=410))  # Gone: the first notification is dead-lettered
    relays.start(isolated_db.url, *FAST, *webhook_args(receiver, secret))
    eventually(lambda: sequences(receiver) == [1, 3], "the row after the dead letter")
    with psycopg.connect(isolated_db.url) as conn:
        dead = conn.execute(
            "select payload ->> 'sequence' from mentoring.outbox where dead_at is not null"
        ).fetchall()
    assert dead == [("1",)]


def test_a_row_waits_while_an_earlier_row_of_its_mentor_is_in_flight_on_another_relay(
    isolated_db: Database,
) -> None:
    mentor, first, _ = mentor_with_two_coordinators(isolated_db)
    with isolated_db.connect() as conn:
        call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="away")
        call(conn, first, "lift_pause", mentor_id=mentor.id)
        conn.commit()

    def claim(conn: psycopg.Connection[Any]) -> list[tuple[int, int]]:
        rows = conn.execute(
            "select (payload ->> 'sequence')::int, id from mentoring.claim_outbox(10, '1 minute')"
        ).fetchall()
        conn.commit()
        return [(row[0], row[1]) for row in rows]

    with isolated_db.connect() as one, isolated_db.connect() as two:
        taken = claim(one)  # both coordinators' rows of the pause (sequence 1)
        assert {sequence for sequence, _ in taken} == {1}
        assert claim(two) == []  # sequence 2 waits for the rows in flight
        one.execute(
            "select mentoring.outbox_delivered(%s)", ([outbox_id for _, outbox_id in taken],)
        )
        one.commit()
        assert {sequence for sequence, _ in claim(two)} == {2}


def test_two_relays_deliver_each_mentors_notifications_in_sequence_order(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        admin_peer = org.second_admin()  # hears of the admin's changes: every one of them
        mentors = [org.mentor() for _ in range(4)]
        for _ in range(5):
            for mentor in mentors:
                call(conn, org.admin, "activate_pause", mentor_id=mentor.id, reason="away")
                call(conn, org.admin, "lift_pause", mentor_id=mentor.id)
        conn.commit()
    del admin_peer
    for _ in range(2):
        relays.start(
            isolated_db.url,
            *FAST,
            "--batch-size",
            "3",
            "--concurrency",
            "4",
            *webhook_args(receiver, secret),
        )
    eventually(lambda: all_delivered(isolated_db.url), "every row")
    by_mentor: dict[str, list[int]] = defaultdict(list)
    for request in receiver.received():
        data = request.document["data"]
        by_mentor[data["mentor"]["id"]].append(data["sequence"])
    assert dict(by_mentor) == {str(m.id): list(range(1, 11)) for m in mentors}


def test_an_earlier_change_still_being_written_does_not_let_a_later_one_overtake(
    isolated_db: Database,
) -> None:
    """Changes of one mentor commit in order (the row lock): a later one waits, then its
    rows are claimed after the earlier one's."""
    mentor, first, second = mentor_with_two_coordinators(isolated_db)
    writer = isolated_db.connect()
    writer.execute("select 1")
    call(writer, first, "activate_pause", mentor_id=mentor.id, reason="first")

    def lift(conn: psycopg.Connection[Any]) -> Any:
        return call(conn, second, "lift_pause", mentor_id=mentor.id, reason="second")

    lifted, pid = in_background(isolated_db, lift)
    wait_until_blocked(isolated_db, pid)
    writer.commit()
    writer.close()
    lifted.result(timeout=10)
    with isolated_db.connect() as conn:
        rows = conn.execute(
            "select (payload ->> 'sequence')::int from mentoring.claim_outbox(10, '1 minute')"
        ).fetchall()
    assert sorted({row[0] for row in rows}) == [1]  # sequence 2 waits for sequence 1


def other_claims_in_flight(url: str, claim_id: object) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select count(*) from mentoring.outbox where delivered_at is null"
            " and leased_until > clock_timestamp() and claim_id <> %s",
            (claim_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_relay_claiming_the_next_batch_during_a_delivery_keeps_each_mentors_order(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        org = World(conn).organization()
        org.second_admin()  # hears of each of the admin's changes
        mentors = [org.mentor() for _ in range(6)]  # more than a batch can hold at once
        for _ in range(4):
            for mentor in mentors:
                call(conn, org.admin, "activate_pause", mentor_id=mentor.id, reason="away")
                call(conn, org.admin, "lift_pause", mentor_id=mentor.id)
        conn.commit()
    claimed_ahead: list[int] = []
    by_mentor: dict[str, list[int]] = defaultdict(list)

    def deliver(message: OutboxMessage) -> None:
        if not claimed_ahead:  # the first row: the next batch is claimed meanwhile
            eventually(
                lambda: other_claims_in_flight(isolated_db.url, message.claim_id),
                "a claim of the next batch while this one is delivered",
            )
            claimed_ahead.append(other_claims_in_flight(isolated_db.url, message.claim_id))
        by_mentor[message.payload["mentor"]["id"]].append(message.payload["sequence"])

    config = RelayConfig(database_url=isolated_db.url, batch_size=4, concurrency=4, retention=None)
    summary = Relay(config, [FunctionSink(deliver)]).run(once=True)
    assert claimed_ahead[0] > 0
    assert summary.delivered == 48
    assert dict(by_mentor) == {str(m.id): list(range(1, 9)) for m in mentors}
