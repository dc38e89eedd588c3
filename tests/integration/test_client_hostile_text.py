"""The clients refuse text PostgreSQL cannot hold as InvalidInput, never a generic error.

A reason with a NUL or a lone surrogate is refused by the clients' argument checks
before the database is touched. Text that reaches :mod:`pyproj_rpc.rpc` unchecked is
refused by psycopg (before sending) or by the database; either way the caller gets
InvalidInput with the original error as its ``__cause__``, and nothing changes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from pyproj_rpc import rpc
from pyproj_rpc.api_errors import InvalidInput, from_database_error
from pyproj_rpc.client import AsyncPauseManagementClient, PauseManagementClient
from pyproj_rpc.identity import Identity, Role
from pyproj_rpc.localdb.cluster import free_port
from tests.conftest import Database
from tests.support import Mentor, World

HOSTILE = {"a NUL": "on\x00leave", "a lone surrogate": "on\ud800leave"}
WRITES: dict[str, Callable[[Any, Mentor, str], Any]] = {
    "activate_pause": lambda client, mentor, reason: client.activate_pause(mentor.id, reason),
    "lift_pause": lambda client, mentor, reason: client.lift_pause(mentor.id, reason),
    "reactivate_mentor": lambda client, mentor, reason: client.reactivate_mentor(mentor.id, reason),
}
# The status from which each write would succeed for the mentor's coordinator.
STATUS_BEFORE = {"activate_pause": "active", "lift_pause": "paused", "reactivate_mentor": "paused"}


def unreachable_url() -> str:
    """A database nobody listens on: a client that touched it would fail to connect."""
    return f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"


@pytest.mark.parametrize("text", sorted(HOSTILE))
@pytest.mark.parametrize("write", sorted(WRITES))
def test_the_client_refuses_such_a_reason_without_touching_the_database(
    world: World, write: str, text: str
) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,), status=STATUS_BEFORE[write])
    before = (world.status(mentor), world.counts(mentor))
    client = PauseManagementClient(world.conn, identity=coordinator)
    with pytest.raises(InvalidInput) as caught:
        WRITES[write](client, mentor, HOSTILE[text])
    assert caught.value.details == {"field": "reason"}
    assert "PostgreSQL text cannot hold" in caught.value.message
    assert caught.value.__cause__ is None  # refused by the check, not by psycopg or SQL
    assert (world.status(mentor), world.counts(mentor)) == before
    # The text alone was refused: the same call with clean text goes through.
    assert WRITES[write](client, mentor, "on leave").changed is True


@pytest.mark.parametrize("text", sorted(HOSTILE))
def test_neither_client_connects_to_refuse_such_a_reason(text: str) -> None:
    nobody = Identity.service()
    mentor_id = uuid.uuid4()
    with (
        PauseManagementClient(unreachable_url(), identity=nobody) as client,
        pytest.raises(InvalidInput),
    ):
        client.activate_pause(mentor_id, HOSTILE[text])

    async def run_async() -> None:
        async with AsyncPauseManagementClient(unreachable_url(), identity=nobody) as client:
            await client.lift_pause(mentor_id, HOSTILE[text])

    with pytest.raises(InvalidInput):
        asyncio.run(run_async())


# -- text past the checks: psycopg's refusals and the database's -------------------------

CAUSES: dict[str, type[Exception]] = {
    "a NUL": psycopg.DataError,  # psycopg refuses NUL in text, with no sqlstate
    "a lone surrogate": UnicodeEncodeError,  # UTF-8 cannot encode it
}


def unchecked_arguments(mentor: Mentor, reason: str) -> dict[str, Any]:
    """activate_pause's arguments as they reach rpc.call, skipping the clients' checks."""
    return {
        "mentor_id": mentor.id,
        "reason": reason,
        "expected_return_date": None,
        "force": False,
        "idempotency_key": None,
    }


@pytest.mark.parametrize("text", sorted(HOSTILE))
def test_psycopgs_refusal_of_such_text_is_invalid_input_with_its_cause(
    world: World, text: str
) -> None:
    org = world.organization()
    mentor = org.mentor()
    before = (world.status(mentor), world.counts(mentor))
    with pytest.raises(InvalidInput) as caught:
        rpc.call(
            world.conn,
            mentor.identity,
            "activate_pause",
            unchecked_arguments(mentor, HOSTILE[text]),
        )
    assert isinstance(caught.value.__cause__, CAUSES[text])
    assert (world.status(mentor), world.counts(mentor)) == before


@pytest.mark.parametrize("text", sorted(HOSTILE))
def test_psycopgs_refusal_of_such_text_is_invalid_input_with_its_cause_async(
    isolated_db: Database, text: str
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        mentor = world.organization().mentor()
        conn.commit()
        before = (world.status(mentor), world.counts(mentor))
        conn.commit()

    async def run() -> BaseException | None:
        async with await psycopg.AsyncConnection.connect(isolated_db.url) as aconn:
            with pytest.raises(InvalidInput) as caught:
                await rpc.call_async(
                    aconn,
                    mentor.identity,
                    "activate_pause",
                    unchecked_arguments(mentor, HOSTILE[text]),
                )
            # The connection is still usable: nothing was left half-done.
            await rpc.call_async(
                aconn, mentor.identity, "get_current_status", {"mentor_id": mentor.id}
            )
            return caught.value.__cause__

    assert isinstance(asyncio.run(run()), CAUSES[text])
    with isolated_db.connect() as conn:
        world = World(conn)
        assert (world.status(mentor), world.counts(mentor)) == before


DATABASE_CAUSES: dict[str, type[psycopg.Error]] = {
    "a NUL": psycopg.errors.UntranslatableCharacter,  # 22P05: jsonb refuses \u0000
    "a lone surrogate": psycopg.errors.InvalidTextRepresentation,  # 22P02 from jsonb
}


@pytest.mark.parametrize("text", sorted(HOSTILE))
def test_the_databases_refusal_of_such_text_is_invalid_input_with_its_cause(
    world: World, text: str
) -> None:
    # Claims are JSON text; the database refuses them when auth.uid() casts them to jsonb.
    org = world.organization()
    mentor = org.mentor()
    before = (world.status(mentor), world.counts(mentor))
    caller = Identity(
        Role.AUTHENTICATED, user_id=mentor.user_id, extra_claims={"note": HOSTILE[text]}
    )
    with pytest.raises(InvalidInput) as caught:
        PauseManagementClient(world.conn, identity=caller).activate_pause(mentor.id, "exams")
    assert isinstance(caught.value.__cause__, DATABASE_CAUSES[text])
    assert (world.status(mentor), world.counts(mentor)) == before


def test_text_the_database_encoding_cannot_hold_maps_to_invalid_input(world: World) -> None:
    # 22021 character_not_in_repertoire: bytes that are not UTF-8, made text.
    with pytest.raises(psycopg.errors.CharacterNotInRepertoire) as caught, world.conn.transaction():
        world.execute("select convert_from('\\xc328'::bytea, 'UTF8')")
    assert isinstance(from_database_error(caught.value), InvalidInput)
