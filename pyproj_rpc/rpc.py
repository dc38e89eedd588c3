"""Calling the ``api`` functions exactly as PostgREST would, for a given identity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import psycopg

from pyproj_rpc.api_errors import from_database_error, from_unencodable_text
from pyproj_rpc.identity import Identity, Role, async_postgrest_request, postgrest_request
from pyproj_rpc.queries import query


def call(
    conn: psycopg.Connection[Any],
    identity: Identity,
    function: str,
    arguments: Mapping[str, Any],
    *,
    method: str = "POST",
) -> list[Any]:
    """Run ``api.<function>`` as ``identity`` in one PostgREST-style request.

    Returns the rows' results (one for a scalar function). A refusal, by the database or
    by psycopg (text it cannot send), raises the matching
    :class:`~pyproj_rpc.api_errors.PauseManagementError`, with the original error as its
    cause, and changes nothing.
    """
    with postgrest_request(conn, identity, method=method, path=f"/rpc/{function}") as cur:
        try:
            rows = cur.execute(query(f"rpc_{function}"), arguments).fetchall()
        except (psycopg.Error, UnicodeEncodeError) as exc:
            _raise_contract_error(exc, identity)
    return [row["result"] for row in rows]


async def call_async(
    conn: psycopg.AsyncConnection[Any],
    identity: Identity,
    function: str,
    arguments: Mapping[str, Any],
    *,
    method: str = "POST",
) -> list[Any]:
    """:func:`call` for an async connection."""
    async with async_postgrest_request(
        conn, identity, method=method, path=f"/rpc/{function}"
    ) as cur:
        try:
            rows = await (await cur.execute(query(f"rpc_{function}"), arguments)).fetchall()
        except (psycopg.Error, UnicodeEncodeError) as exc:
            _raise_contract_error(exc, identity)
    return [row["result"] for row in rows]


def _raise_contract_error(exc: psycopg.Error | UnicodeEncodeError, identity: Identity) -> NoReturn:
    if isinstance(exc, UnicodeEncodeError):
        raise from_unencodable_text(exc) from exc
    error = from_database_error(exc, anonymous=identity.role is Role.ANON)
    if error is None:
        raise exc
    raise error from exc
