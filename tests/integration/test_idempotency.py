"""Idempotency keys: a repeated call returns the first result and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from pyproj_rpc.api_errors import IdempotencyConflict, MentorNotFound, TransitionNotAllowed
from tests.conftest import Database
from tests.support import World, call, in_background, wait_until_blocked


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


def test_a_second_call_with_the_same_key_waits_for_the_first_and_returns_its_result(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as setup:
        mentor = World(setup).organization().mentor()
        setup.commit()
    key = uuid.uuid4()

    def pause(conn: psycopg.Connection[Any]) -> Any:
        return call(
            conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="x",
            idempotency_key=key,
        )

    with isolated_db.connect() as first:
        with first.transaction():
            first_result = pause(first)
            second, pid = in_background(isolated_db, pause)
            wait_until_blocked(isolated_db, pid)
        assert second.result(timeout=30) == first_result
    with isolated_db.connect() as conn:
        assert World(conn).counts(mentor)["events"] == 1


def test_a_replay_is_refused_to_a_caller_who_can_no_longer_see_the_mentor(
    world: World,
) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    key = uuid.uuid4()
    call(
        world.conn,
        coordinator,
        "activate_pause",
        mentor_id=mentor.id,
        reason="x",
        idempotency_key=key,
    )
    world.execute("delete from mentoring.mentor_coordinators where mentor_id = %s", (mentor.id,))
    with pytest.raises(MentorNotFound):
        call(
            world.conn,
            coordinator,
            "activate_pause",
            mentor_id=mentor.id,
            reason="x",
            idempotency_key=key,
        )


def test_purging_removes_keys_older_than_the_retention(world: World) -> None:
    mentor = world.organization().mentor()
    old, recent = uuid.uuid4(), uuid.uuid4()
    for key in (old, recent):
        call(
            world.conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="x",
            idempotency_key=key,
        )
        call(world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id)
    world.execute(
        "update mentoring.idempotency_keys set created_at = now() - interval '8 days'"
        " where key = %s",
        (old,),
    )
    assert world.execute("select mentoring.purge_idempotency_keys()").fetchone() == (1,)
    remaining = {row[0] for row in world.execute("select key from mentoring.idempotency_keys")}
    assert remaining == {recent}
