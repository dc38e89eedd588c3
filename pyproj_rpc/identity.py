"""Who a request runs as, and running SQL exactly as PostgREST would for them.

PostgREST opens a transaction per request, sets the role named by the JWT, stores the
claims in ``request.jwt.claims`` (read by ``auth.uid()``), and the method, path and
headers in ``request.*``. :func:`postgrest_request` does the same on a psycopg connection,
so that our wrappers, our REST adapter and our tests go through the same gate as a
Supabase client: the role's privileges and the RLS policies.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from pyproj_rpc.queries import query

EXPOSED_SCHEMA = "api"
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


class Role(StrEnum):
    """The PostgreSQL roles PostgREST switches to, named by the JWT's ``role`` claim."""

    ANON = "anon"
    AUTHENTICATED = "authenticated"
    SERVICE_ROLE = "service_role"


@dataclass(frozen=True)
class Identity:
    """The caller of a request: its role and, for a signed-in user, its claims."""

    role: Role
    user_id: UUID | None = None
    email: str | None = None
    audience: str = "authenticated"
    extra_claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role is Role.AUTHENTICATED and self.user_id is None:
            raise ValueError("an authenticated identity needs a user id")
        if self.role is not Role.AUTHENTICATED and self.user_id is not None:
            raise ValueError(f"a {self.role} identity has no user id")

    @classmethod
    def user(cls, user_id: UUID, email: str | None = None) -> Identity:
        """A signed-in Supabase user."""
        return cls(Role.AUTHENTICATED, user_id=user_id, email=email)

    @classmethod
    def anon(cls) -> Identity:
        """A request without a user (Supabase's anon key)."""
        return cls(Role.ANON, audience="")

    @classmethod
    def service(cls) -> Identity:
        """The backend (Supabase's service_role key): bypasses RLS; the scheduler's identity."""
        return cls(Role.SERVICE_ROLE, audience="")

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Identity:
        """The caller of a verified JWT, as PostgREST reads it.

        ``role`` names the role (none: ``anon``); an ``authenticated`` token needs a UUID
        ``sub``. Every claim is kept, so :meth:`claims` gives back the token's claims for
        ``request.jwt.claims``. Raises ``ValueError`` for another role or a bad ``sub``.
        """
        role = Role(claims.get("role", Role.ANON.value))
        user_id = None
        if role is Role.AUTHENTICATED:
            sub = claims.get("sub")
            if not isinstance(sub, str):
                raise ValueError("an authenticated token needs a sub claim")
            user_id = UUID(sub)
        email, audience = claims.get("email"), claims.get("aud")
        return cls(
            role,
            user_id=user_id,
            email=email if isinstance(email, str) else None,
            audience=audience if isinstance(audience, str) else "",
            extra_claims=dict(claims),
        )

    def claims(self) -> dict[str, Any]:
        """The JWT claims PostgREST would put in ``request.jwt.claims``."""
        claims: dict[str, Any] = {"role": self.role.value}
        if self.user_id is not None:
            claims["sub"] = str(self.user_id)
        if self.audience:
            claims["aud"] = self.audience
        if self.email is not None:
            claims["email"] = self.email
        claims.update(self.extra_claims)
        return claims


def request_settings(
    identity: Identity,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The values of PostgREST's per-request settings for this caller and request."""
    return {
        "search_path": f'"{EXPOSED_SCHEMA}", "public"',
        "claims": json.dumps(identity.claims()),
        "method": method,
        "path": path,
        "headers": json.dumps({k.lower(): v for k, v in (headers or {}).items()}),
        "cookies": "{}",
        "role": identity.role.value,
    }


@contextmanager
def postgrest_request(
    conn: psycopg.Connection[Any],
    identity: Identity,
    *,
    method: str = "POST",
    path: str = "/rpc",
    headers: Mapping[str, str] | None = None,
) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
    """Run the block as one PostgREST request by ``identity``.

    On an idle connection the block is its own transaction, committed at the end (rolled
    back on error), and read-only for GET and HEAD, as PostgREST does. Inside a
    transaction already open (a test that rolls everything back), it is a savepoint,
    and the previous role and settings are put back afterwards.
    """
    nested = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        if not nested and method in READ_ONLY_METHODS:
            cur.execute(query("read_only_transaction"))
        previous = cur.execute(query("get_request_context")).fetchone() if nested else None
        settings = request_settings(identity, method=method, path=path, headers=headers)
        cur.execute(query("set_request_context"), settings)
        try:
            yield cur
        finally:
            if previous is not None and not conn.closed and not _aborted(conn):
                cur.execute(query("set_request_context"), previous)


@asynccontextmanager
async def async_postgrest_request(
    conn: psycopg.AsyncConnection[Any],
    identity: Identity,
    *,
    method: str = "POST",
    path: str = "/rpc",
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[psycopg.AsyncCursor[dict[str, Any]]]:
    """:func:`postgrest_request` for an async connection."""
    nested = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        if not nested and method in READ_ONLY_METHODS:
            await cur.execute(query("read_only_transaction"))
        previous = None
        if nested:
            previous = await (await cur.execute(query("get_request_context"))).fetchone()
        settings = request_settings(identity, method=method, path=path, headers=headers)
        await cur.execute(query("set_request_context"), settings)
        try:
            yield cur
        finally:
            if previous is not None and not conn.closed and not _aborted(conn):
                await cur.execute(query("set_request_context"), previous)


def _aborted(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    return conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
