"""Idempotency keys: a repeated call returns the first result and changes nothing."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from pyproj_rpc.api_errors import IdempotencyConflict, TransitionNotAllowed
from tests.conftest import Database
from tests.support import World, call


def test_repeating_a_pause_with_its_key_returns_the_first_result_and_changes_nothing(
    world: World,
) -> None:
    mentor = world.organization().mentor()
    key = uuid.uuid4()
    first = call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    counts = world.counts(mentor)
    again = call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    assert again == first
    assert world.counts(mentor) == counts
    assert world.events(mentor)[0]["idempotency_key"] == key


def test_without_a_key_a_repeated_pause_is_refused(world: World) -> None:
    mentor = world.organization().mentor()
    call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    with pytest.raises(TransitionNotAllowed):
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")


def test_the_same_key_with_other_arguments_is_refused(world: World) -> None:
    mentor = world.organization().mentor()
    key = uuid.uuid4()
    call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    with pytest.raises(IdempotencyConflict) as refused:
        call(
            world.conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="another reason",
            idempotency_key=key,
        )
    assert refused.value.details["idempotency_key"] == str(key)


def test_the_same_key_for_another_operation_is_refused(world: World) -> None:
    mentor = world.organization().mentor()
    key = uuid.uuid4()
    call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    with pytest.raises(IdempotencyConflict):
        call(world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id, idempotency_key=key)


def test_keys_belong_to_their_caller(world: World) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    key = uuid.uuid4()
    call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    lifted = call(world.conn, coordinator, "lift_pause", mentor_id=mentor.id, idempotency_key=key)
    assert lifted["status"] == "active"


def test_a_refused_call_does_not_use_up_its_key(world: World) -> None:
    mentor = world.organization().mentor()
    key = uuid.uuid4()
    with pytest.raises(TransitionNotAllowed):
        call(world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id, idempotency_key=key)
    call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    lifted = call(
        world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id, idempotency_key=key
    )
    assert lifted["changed"] is True


def test_two_concurrent_calls_with_one_key_change_once_and_agree(isolated_db: Database) -> None:
    with isolated_db.connect() as setup:
        mentor = World(setup).organization().mentor()
        setup.commit()
    key = uuid.uuid4()
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def pause() -> None:
        with isolated_db.connect() as conn:
            barrier.wait()
            results.append(
                call(
                    conn,
                    mentor.identity,
                    "activate_pause",
                    mentor_id=mentor.id,
                    reason="x",
                    idempotency_key=key,
                )
            )

    threads = [threading.Thread(target=pause) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    assert results[0] == results[1]
    with isolated_db.connect() as conn:
        assert World(conn).counts(mentor)["events"] == 1
