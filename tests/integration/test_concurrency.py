"""Transitions on one mentor serialize on its row: no lost update, no deadlock."""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from pyproj_rpc.api_errors import (
    CertificationLapsed,
    PauseManagementError,
    TransitionNotAllowed,
)
from pyproj_rpc.identity import Identity
from tests.conftest import Database
from tests.support import Mentor, World, call, in_background, wait_until_blocked


@pytest.fixture
def scene(isolated_db: Database) -> tuple[Mentor, Identity, Identity]:
    with isolated_db.connect() as conn:
        org = World(conn).organization()
        first, second = org.coordinator(), org.coordinator()
        mentor = org.mentor(coordinators=(first, second))
        conn.commit()
    return mentor, first, second


def test_the_second_of_two_simultaneous_pauses_waits_then_gets_a_clean_409(
    isolated_db: Database, scene: tuple[Mentor, Identity, Identity]
) -> None:
    mentor, first, second = scene
    with isolated_db.connect() as holder:
        with holder.transaction():
            call(holder, first, "activate_pause", mentor_id=mentor.id, reason="first")
            later, pid = in_background(
                isolated_db,
                lambda conn: call(
                    conn, second, "activate_pause", mentor_id=mentor.id, reason="second"
                ),
            )
            wait_until_blocked(isolated_db, pid)
        with pytest.raises(TransitionNotAllowed) as lost:
            later.result(timeout=30)
    assert lost.value.details["current_status"] == "paused"
    with isolated_db.connect() as conn:
        events = World(conn).events(mentor)
    assert [(e["to_status"], e["reason"]) for e in events] == [("paused", "first")]


def test_a_lift_racing_a_pause_waits_for_it_and_then_lifts_it(
    isolated_db: Database, scene: tuple[Mentor, Identity, Identity]
) -> None:
    mentor, first, second = scene
    with isolated_db.connect() as holder:
        with holder.transaction():
            call(holder, first, "activate_pause", mentor_id=mentor.id, reason="first")
            later, pid = in_background(
                isolated_db, lambda conn: call(conn, second, "lift_pause", mentor_id=mentor.id)
            )
            wait_until_blocked(isolated_db, pid)
        assert later.result(timeout=30)["status"] == "active"
    with isolated_db.connect() as conn:
        world = World(conn)
        assert [e["to_status"] for e in world.events(mentor)] == ["paused", "active"]
        assert world.status(mentor) == "active"


def test_many_threads_pausing_and_lifting_leave_a_consistent_history(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        staff = [org.coordinator() for _ in range(4)] + [org.admin]
        mentors = [org.mentor(coordinators=tuple(staff[:4])) for _ in range(3)]
        conn.commit()

    outcomes: Counter[str] = Counter()
    crashes: list[BaseException] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 (a test schedule, not a secret)
        with isolated_db.connect() as conn:
            for _ in range(25):
                mentor = rng.choice(mentors)
                actor = rng.choice(staff)
                function = rng.choice(["activate_pause", "lift_pause", "renew"])
                if function == "renew":  # a foreign key insert on the mentor, mid-race
                    with conn.transaction():
                        World(conn).certify(
                            mentor, date.today(), date.today() + timedelta(days=400)
                        )
                    continue
                arguments: dict[str, Any] = {"mentor_id": mentor.id}
                if function == "activate_pause":
                    arguments["reason"] = f"worker {seed}"
                try:
                    call(conn, actor, function, **arguments)
                    result = "changed"
                except PauseManagementError as error:
                    result = error.code
                except BaseException as crash:
                    with lock:
                        crashes.append(crash)
                    raise
                with lock:
                    outcomes[result] += 1

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a worker hung: deadlock?"
    assert crashes == []

    assert set(outcomes) <= {"changed", "transition_not_allowed"}, outcomes
    assert outcomes["changed"] > 0
    with isolated_db.connect() as conn:
        world = World(conn)
        total_events = 0
        for mentor in mentors:
            events = world.events(mentor)
            total_events += len(events)
            assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
            for earlier, later in itertools.pairwise(events):
                assert earlier["to_status"] == later["from_status"]
            last = events[-1]["to_status"] if events else "active"
            assert world.status(mentor) == last
            open_pauses = [p for p in world.pauses(mentor) if p["ended_at"] is None]
            assert len(open_pauses) == (1 if last == "paused" else 0)
        assert total_events == outcomes["changed"]
        deadlocks = conn.execute(
            "select deadlocks from pg_stat_database where datname = current_database()"
        ).fetchone()
        assert deadlocks == (0,)


def test_a_lift_waits_for_a_certification_being_deleted_and_then_refuses(
    isolated_db: Database, scene: tuple[Mentor, Identity, Identity]
) -> None:
    mentor, first, _ = scene
    with isolated_db.connect() as conn:
        call(conn, first, "activate_pause", mentor_id=mentor.id, reason="x")
    with isolated_db.connect() as holder:
        with holder.transaction():
            holder.execute(
                "delete from mentoring.certifications where mentor_id = %s", (mentor.id,)
            )
            later, pid = in_background(
                isolated_db, lambda conn: call(conn, first, "lift_pause", mentor_id=mentor.id)
            )
            wait_until_blocked(isolated_db, pid)
        with pytest.raises(CertificationLapsed):
            later.result(timeout=30)
    with isolated_db.connect() as conn:
        assert World(conn).status(mentor) == "paused"


def test_a_pause_racing_a_recertification_that_then_pauses_does_not_deadlock(
    isolated_db: Database, scene: tuple[Mentor, Identity, Identity]
) -> None:
    mentor, first, second = scene
    with isolated_db.connect() as holder:
        with holder.transaction():
            World(holder).certify(mentor, date.today(), date.today() + timedelta(days=400))
            later, pid = in_background(
                isolated_db,
                lambda conn: call(
                    conn, second, "activate_pause", mentor_id=mentor.id, reason="second"
                ),
            )
            wait_until_blocked(isolated_db, pid)
            call(holder, first, "activate_pause", mentor_id=mentor.id, reason="first")
        with pytest.raises(TransitionNotAllowed):
            later.result(timeout=30)
        deadlocks = holder.execute(
            "select deadlocks from pg_stat_database where datname = current_database()"
        ).fetchone()
    assert deadlocks == (0,)
