"""Torture: 32 threads of random permitted and refused calls on a handful of mentors.

Every thread calls, with no pause between calls, every write of the api as every kind of
caller (with idempotency keys shared between threads), the expiry sweep, direct UPDATEs
as the owner, the certification feature's writes and reads, each in a transaction of its
own. Afterwards: no thread hung, no deadlock happened (none surfaced as 40P01, the
database counted none), every refusal carried a documented error code, and the
invariants hold: paused exactly when one pause is open, one event per change, each
event's recipients the mentor's audience but the actor.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from pyproj_rpc.api_errors import PauseManagementError, from_database_error
from pyproj_rpc.identity import Identity
from pyproj_rpc.queries import query
from tests.conftest import Database
from tests.model_support import (
    ACTIVE,
    EXPIRED,
    PAUSED,
    PRECONDITIONS,
    database_state,
    invariant_violations,
)
from tests.support import ARGUMENTS, Mentor, World, call

THREADS = 32
CALLS_PER_THREAD = 40
RELATED = ("the_mentor", "admin", "coordinator", "other_coordinator")
REASONS = (*("Exam week", "  Family leave  ") * 3, "", "x" * 501, None)
FUNCTIONS = (
    *("activate_pause",) * 3,
    *("lift_pause",) * 3,
    *("reactivate_mentor",) * 3,
    "auto_expire_for_certification",
    "expire_lapsed_certifications",
    "owner_update",
    "certification",
    "get_current_status",
)


@dataclass
class Scene:
    mentors: list[Mentor]
    callers: dict[str, Identity | None]  # None: the owner, in a session of their own
    audience: dict[uuid.UUID, set[uuid.UUID]]
    keys: list[uuid.UUID]
    today: date


@dataclass
class Tally:
    """What the threads saw, merged under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    changes: dict[tuple[str, int], str] = field(default_factory=dict)  # (mentor, seq) -> status
    swept: int = 0
    updated: int = 0
    failures: list[str] = field(default_factory=list)


@pytest.fixture
def scene(isolated_db: Database) -> Scene:
    with isolated_db.connect() as conn:
        conn.execute(PRECONDITIONS)
        world = World(conn)
        org, elsewhere = world.organization(), world.organization()
        first, second, unassigned = org.coordinator(), org.coordinator(), org.coordinator()
        mentors = [org.mentor(coordinators=(first, second)) for _ in range(3)]
        mentors.append(org.mentor())  # no coordinator: the admin hears of it
        conn.execute("insert into model_checks.busy values (%s)", (mentors[0].id,))
        today = world.today(org.id)
        conn.commit()
    assert first.user_id is not None
    assert second.user_id is not None
    assert org.admin.user_id is not None
    callers: dict[str, Identity | None] = {
        "admin": org.admin,
        "coordinator": first,
        "other_coordinator": second,
        "unassigned_coordinator": unassigned,
        "admin_elsewhere": elsewhere.admin,
        "service_role": Identity.service(),
        "anon": Identity.anon(),
        "owner": None,
    }
    callers |= {f"mentor_{n}": mentor.identity for n, mentor in enumerate(mentors)}
    audience = {m.id: {first.user_id, second.user_id} for m in mentors[:3]}
    audience[mentors[3].id] = {org.admin.user_id}
    keys = [uuid.uuid4() for _ in range(4)]
    return Scene(mentors, callers, audience, keys, today)


def one_call(conn: psycopg.Connection[Any], scene: Scene, rng: random.Random, tally: Tally) -> None:
    """One random call in a transaction of its own; its outcome goes to the tally."""
    function = rng.choice(FUNCTIONS)
    mentor = rng.choice(scene.mentors)
    # mostly callers who may act, often those who may not
    caller = rng.choice([*RELATED * 4, *sorted(scene.callers)])
    identity = mentor.identity if caller == "the_mentor" else scene.callers[caller]
    arguments: dict[str, Any] = {"mentor_id": mentor.id}
    if function in ("activate_pause", "lift_pause", "reactivate_mentor"):
        arguments["reason"] = rng.choice(REASONS)
        arguments["idempotency_key"] = rng.choice(scene.keys) if rng.random() < 0.25 else None
    if function == "activate_pause":
        arguments["force"] = rng.random() < 0.3
        days = rng.choice([None, None, 1, 366])
        arguments["expected_return_date"] = days and scene.today + timedelta(days=days)
    if function == "expire_lapsed_certifications":
        arguments = {"batch_size": rng.choice([1, 2, 500])}
    surfaced = False
    try:
        result = perform(
            conn, function=function, identity=identity, mentor=mentor, arguments=arguments, rng=rng
        )
        outcome = "ok"
    except PauseManagementError as refused:
        outcome = refused.code
        if isinstance(refused.__cause__, psycopg.Error):
            surfaced = refused.__cause__.sqlstate == "40P01"
    except psycopg.Error as exc:  # the owner's own statements
        mapped = from_database_error(exc)
        outcome = mapped.code if mapped else f"undocumented {exc.sqlstate}: {exc}"
        surfaced = exc.sqlstate == "40P01"
    with tally.lock:
        tally.outcomes[function, outcome] += 1
        if outcome != "ok":
            if surfaced:
                tally.failures.append(f"{function} by {caller}: a deadlock surfaced")
            return
        if function == "expire_lapsed_certifications":
            tally.swept += result
        elif function == "owner_update":
            tally.updated += result
        elif isinstance(result, dict) and result.get("changed"):
            change = (result["mentor_id"], result["event"]["sequence"])
            tally.changes[change] = result["status"]


def perform(
    conn: psycopg.Connection[Any],
    *,
    function: str,
    identity: Identity | None,
    mentor: Mentor,
    arguments: dict[str, Any],
    rng: random.Random,
) -> Any:
    """Run one call: as the identity through the api, or as the owner (identity None)."""
    if function == "owner_update":
        target = rng.choice([ACTIVE, PAUSED, EXPIRED])
        with conn.transaction():
            conn.execute(
                "select set_config('mentoring.transition_request', %s, true)",
                ('{"reason": "by hand"}',),
            )
            return conn.execute(
                "update mentoring.mentors set status = %s::mentoring.mentor_status"
                " where id = %s and status <> %s::mentoring.mentor_status",
                (target, mentor.id, target),
            ).rowcount
    if function == "certification":  # the certification feature, as the owner
        with conn.transaction():
            world = World(conn)
            if rng.random() < 0.1:
                world.lapse(mentor)
            else:
                today = world.today(mentor.organization_id)
                world.certify(mentor, today, today + timedelta(days=365))
        return None
    if identity is None:
        with conn.transaction():
            named = {name: arguments.get(name) for name in ARGUMENTS[function]}
            row = conn.execute(query(f"rpc_{function}"), named).fetchone()
        return row and row[0]
    return call(conn, identity, function, **arguments)


@pytest.mark.slow
def test_thirty_two_threads_of_random_calls_never_deadlock_and_leave_every_invariant(
    isolated_db: Database, scene: Scene
) -> None:
    with isolated_db.connect() as conn:
        documented = {row[0] for row in conn.execute("select code from mentoring.error_codes")}
    tally = Tally()
    start = threading.Barrier(THREADS)
    crashes: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 (a test schedule, not a secret)
        try:
            with isolated_db.connect() as conn:
                start.wait()
                for _ in range(CALLS_PER_THREAD):
                    one_call(conn, scene, rng, tally)
                # flush this backend's statistics (deadlocks) before we read them
                conn.execute("select pg_stat_force_next_flush()")
                conn.commit()
                conn.execute("select 1")
        except BaseException as crash:
            with tally.lock:
                crashes.append(crash)
            raise

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
        assert not thread.is_alive(), "a worker hung: deadlock?"
    assert crashes == []
    print(f"\n{sum(tally.outcomes.values())} calls:")
    for (function, outcome), count in sorted(tally.outcomes.items()):
        print(f"  {function}: {outcome} x{count}")

    assert tally.failures == []
    outcomes = {outcome for _, outcome in tally.outcomes}
    assert outcomes - {"ok"} <= documented, outcomes
    assert tally.outcomes.total() == THREADS * CALLS_PER_THREAD
    with isolated_db.connect() as conn:
        conn.execute("select pg_stat_clear_snapshot()")
        deadlocks = conn.execute(
            "select deadlocks from pg_stat_database where datname = current_database()"
        ).fetchone()
        state = database_state(conn, [m.id for m in scene.mentors])
    assert deadlocks == (0,)
    assert invariant_violations(state) == []
    events = state["events"]
    # one event per change: each change a call reported, each mentor a sweep or an UPDATE moved
    assert len(events) == len(tally.changes) + tally.swept + tally.updated
    assert len(events) > THREADS  # the threads did change things
    by_change = {(e["mentor_id"], e["sequence"]): e["to_status"] for e in events}
    assert {change: by_change.get(change) for change in tally.changes} == tally.changes
    for event in events:
        audience = scene.audience[uuid.UUID(event["mentor_id"])]
        actor = event["actor_user_id"] and uuid.UUID(event["actor_user_id"])
        assert {uuid.UUID(r) for r in event["recipients"]} == audience - {actor}
