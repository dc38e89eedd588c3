"""Writers skip NOTIFY while a relay drains, and no row waits past a relay's sleep.

A draining relay holds ``mentoring.relay_awake_lock()``; every writer holds
``mentoring.relay_fence_lock()`` shared until it commits. A relay about to sleep lets go of
the first and waits for the second, so that its last claim sees every row whose writer
did not notify.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from tests.conftest import Database
from tests.relay_support import FAST, Receiver, Relays, all_delivered, undelivered, webhook_args
from tests.support import Mentor, World, call, eventually, in_background, wait_until_blocked

CHANNEL = "mentoring_outbox"


def mentors(database: Database, count: int) -> list[Mentor]:
    with database.connect() as conn:
        org = World(conn).organization()
        coordinator = org.coordinator()
        made = [org.mentor(coordinators=(coordinator,)) for _ in range(count)]
        conn.commit()
    return made


def pause(conn: psycopg.Connection[Any], mentor: Mentor) -> None:
    """A pause through the api, left uncommitted on ``conn`` (commit to publish it)."""
    conn.execute("select 1")  # a transaction is open: the call below is nested in it
    call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="exams")


def draining_relay(database: Database) -> psycopg.Connection[Any]:
    relay = database.connect(autocommit=True)
    held = relay.execute("select pg_try_advisory_lock(mentoring.relay_awake_lock())").fetchone()
    assert held == (True,)
    return relay


def test_a_change_notifies_when_no_relay_is_draining(isolated_db: Database) -> None:
    [mentor] = mentors(isolated_db, 1)
    with isolated_db.connect(autocommit=True) as listener, isolated_db.connect() as conn:
        listener.execute(f"listen {CHANNEL}")
        pause(conn, mentor)
        conn.commit()
        assert len(list(listener.notifies(timeout=5, stop_after=1))) == 1


def test_a_change_skips_the_notify_while_a_relay_is_draining(isolated_db: Database) -> None:
    [mentor] = mentors(isolated_db, 1)
    with (
        draining_relay(isolated_db),
        isolated_db.connect(autocommit=True) as listener,
        isolated_db.connect() as conn,
    ):
        listener.execute(f"listen {CHANNEL}")
        pause(conn, mentor)
        conn.commit()
        assert list(listener.notifies(timeout=1)) == []
        assert conn.execute("select count(*) from mentoring.outbox").fetchone() == (1,)


def test_a_relay_falling_asleep_waits_for_a_writer_in_flight_then_sees_its_row(
    isolated_db: Database,
) -> None:
    [mentor] = mentors(isolated_db, 1)
    with draining_relay(isolated_db), isolated_db.connect() as writer:
        pause(writer, mentor)  # in flight: it found a relay draining and did not notify

        def fence_then_claim(conn: psycopg.Connection[Any]) -> Any:
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(mentoring.relay_fence_lock())")
            return conn.execute("select count(*) from mentoring.outbox").fetchone()

        sleeping, pid = in_background(isolated_db, fence_then_claim)
        wait_until_blocked(isolated_db, pid)  # the writer holds the fence
        writer.commit()
        assert sleeping.result(timeout=10) == (1,)


def test_a_write_while_a_relay_falls_asleep_still_notifies(isolated_db: Database) -> None:
    [first, second] = mentors(isolated_db, 2)
    with isolated_db.connect(autocommit=True) as sleeper, isolated_db.connect() as in_flight:
        pause(in_flight, first)  # holds the fence shared until it commits
        sleeper.execute("set lock_timeout = '5s'")
        future, pid = in_background(
            isolated_db,
            lambda conn: conn.execute(
                "select pg_advisory_lock(mentoring.relay_fence_lock())"
            ).fetchone(),
        )
        wait_until_blocked(isolated_db, pid)  # a relay waits for the fence
        with (
            isolated_db.connect(autocommit=True) as listener,
            isolated_db.connect() as writer,
        ):
            listener.execute(f"listen {CHANNEL}")
            pause(writer, second)
            writer.commit()
            assert len(list(listener.notifies(timeout=5, stop_after=1))) == 1
        in_flight.commit()
        future.result(timeout=10)


def test_a_busy_relay_delivers_every_change_made_while_it_drains_without_polling(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    team = mentors(isolated_db, 40)
    # Only claims after wake-ups and before sleeping can deliver: the poll is an hour.
    relay = relays.start(url, *FAST, "--poll-interval", "1h", *webhook_args(receiver, secret))

    def pause_some(some: list[Mentor]) -> None:
        with isolated_db.connect() as conn:
            for mentor in some:
                pause(conn, mentor)
                conn.commit()

    writers = [threading.Thread(target=pause_some, args=(team[i::4],)) for i in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    try:
        eventually(lambda: all_delivered(url) and len(receiver.ids()) >= 40, "every change")
    except AssertionError as missed:
        raise AssertionError(
            f"{missed}; undelivered {undelivered(url)}; {relay.events()}"
        ) from None
    assert len(set(receiver.ids())) == 40
