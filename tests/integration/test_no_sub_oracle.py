"""Whoever calls, a mentor id they may not see answers as an unknown one does: the
functions authenticated may execute never tell which mentor ids exist."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.support import World

# Every function authenticated may execute whose first argument is a mentor's id.
MENTOR_FUNCTIONS = """
select p.oid::regprocedure::text as signature, p.pronargs as arguments
from pg_catalog.pg_proc p
where p.pronamespace in ('api'::regnamespace, 'mentoring'::regnamespace)
  and p.prokind = 'f'
  and p.pronargs >= 1
  and p.proargtypes[0] = 'uuid'::regtype
  and p.proargnames[1] = 'mentor_id'
  and pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
order by 1
"""


def answer(
    conn: psycopg.Connection[Any],
    signature: str,
    arguments: int,
    mentor_id: uuid.UUID,
    claims: dict[str, str],
) -> str:
    """What one call answers: an error's code and text (the id itself left out), or that
    it answered."""
    name = signature.split("(", maxsplit=1)[0]
    nulls = ", null" * (arguments - 1)
    try:
        with conn.transaction():
            conn.execute("set local role authenticated")
            conn.execute(
                "select pg_catalog.set_config('request.jwt.claims', %s, true)",
                (json.dumps(claims),),
            )
            conn.execute(f"select {name}(%s{nulls})", (mentor_id,))  # type: ignore[arg-type]
    except psycopg.Error as exc:
        return f"{exc.sqlstate}: {exc.diag.message_primary}".replace(str(mentor_id), "<id>")
    return "answered"


@pytest.mark.parametrize("caller", ["no user", "another organization's mentor"])
def test_a_mentor_id_the_caller_may_not_see_answers_as_an_unknown_one_does(
    world: World, caller: str
) -> None:
    mentor = world.organization("Theirs").mentor()
    claims = {"role": "authenticated"}
    if caller != "no user":
        stranger = world.organization("Mine").mentor()
        claims["sub"] = str(stranger.user_id)
    functions = world.conn.execute(MENTOR_FUNCTIONS).fetchall()
    assert ("mentoring.caller_pause_findings(uuid)", 1) in functions
    differ = {}
    for signature, arguments in functions:
        real = answer(world.conn, signature, arguments, mentor.id, claims)
        unknown = answer(world.conn, signature, arguments, uuid.uuid4(), claims)
        if real != unknown:
            differ[signature] = (real, unknown)
    assert differ == {}
