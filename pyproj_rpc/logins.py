"""The database logins of the services: NOINHERIT, holding only the roles they switch to.

The REST adapter logs in as ``pyproj_api``, which holds no privilege of its own and may
only ``SET ROLE`` to ``anon``, ``authenticated`` and ``service_role``, as PostgREST's
``authenticator`` does. The relay logs in as ``pyproj_relay``, which may only become
``mentoring_relay`` (``relay --role mentoring_relay``). :func:`ensure_logins` creates
them, or brings existing ones back to exactly that: the attributes, the password, the
memberships (any other membership is revoked). Run it as the database owner (on
Supabase: ``postgres``, which has CREATEROLE) after ``pyproj-rpc db upgrade``.

Passwords come from the environment and are checked before anything is sent. The
password itself never reaches the server: libpq computes its SCRAM-SHA-256 verifier,
which is what ``CREATE ROLE ... PASSWORD`` stores (as psql's ``\\password`` does), so no
server log or ``pg_stat_statements`` entry can show it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from pyproj_rpc.errors import ConfigurationError, PyprojRpcError
from pyproj_rpc.queries import query

MIN_PASSWORD_LENGTH = 16
MIN_DISTINCT_CHARACTERS = 8
PLACEHOLDER_MARKERS = ("change-me", "changeme", "replace-me", "placeholder")
GENERATE_HINT = "generate one with `openssl rand -hex 32`"
LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Roles a service login must never be: they exist for other purposes.
RESERVED_NAMES = frozenset(
    {
        "postgres",
        "supabase_admin",
        "authenticator",
        "anon",
        "authenticated",
        "service_role",
        "mentoring_relay",
    }
)


@dataclass(frozen=True)
class Login:
    """A kind of service login: its default name, the roles it may become, its password."""

    name: str
    roles: tuple[str, ...]
    password_env: str
    purpose: str


API = Login(
    "pyproj_api",
    ("anon", "authenticated", "service_role"),
    "PYPROJ_API_DB_PASSWORD",
    "the REST adapter (pyproj-rpc api)",
)
RELAY = Login(
    "pyproj_relay",
    ("mentoring_relay",),
    "PYPROJ_RELAY_DB_PASSWORD",
    "the notification relay (pyproj-rpc relay --role mentoring_relay)",
)


class WeakPassword(ConfigurationError):
    """A login's password is missing, a placeholder, or too easy to guess."""


class LoginRefused(PyprojRpcError):
    """The database cannot, or must not, make this login."""


@dataclass(frozen=True)
class LoginRequest:
    """One login to create or update."""

    kind: Login
    name: str
    password: str


@dataclass(frozen=True)
class LoginReport:
    """What :func:`ensure_logins` did to one login."""

    name: str
    created: bool
    roles: tuple[str, ...]
    granted: tuple[str, ...]
    revoked: tuple[str, ...]

    def describe(self) -> str:
        action = "created" if self.created else "updated"
        changes = [] if self.created else ["password set"]
        if self.granted and not self.created:
            changes.append("granted " + ", ".join(self.granted))
        if self.revoked:
            changes.append("revoked " + ", ".join(self.revoked))
        detail = f" ({'; '.join(changes)})" if changes else ""
        return f"{action} login {self.name}{detail}: NOINHERIT, may SET ROLE " + ", ".join(
            self.roles
        )


def check_login_name(name: str) -> str:
    """A plain lower-case role name that is not one of the roles the stack already uses."""
    if not LOGIN_NAME.match(name):
        raise ConfigurationError(
            f"login name {name!r}: use lower-case letters, digits and underscores (at most 63)"
        )
    if name in RESERVED_NAMES:
        raise ConfigurationError(f"login name {name!r} is a role the stack already uses")
    return name


def check_password(password: str | None, *, login: str, source: str) -> str:
    """The password, or :class:`WeakPassword` saying what is wrong and how to make one."""
    if password is None or password == "":
        raise WeakPassword(f"{source} is not set or empty: {GENERATE_HINT}")
    lowered = password.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        raise WeakPassword(f"{source} is still a placeholder: {GENERATE_HINT}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"{source} is too short ({len(password)} characters, at least "
            f"{MIN_PASSWORD_LENGTH}): {GENERATE_HINT}"
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise WeakPassword(
            f"{source} repeats too few characters (at least {MIN_DISTINCT_CHARACTERS} "
            f"different ones): {GENERATE_HINT}"
        )
    if login.lower() in lowered:
        raise WeakPassword(f"{source} contains the login's name: {GENERATE_HINT}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise WeakPassword(f"{source} contains control characters: {GENERATE_HINT}")
    return password


def requests_from_env(
    wanted: Sequence[tuple[Login, str]], env: Mapping[str, str]
) -> list[LoginRequest]:
    """Check each wanted login's name and its password (from ``env``) before any SQL."""
    requests = [
        LoginRequest(
            kind,
            check_login_name(name),
            check_password(env.get(kind.password_env), login=name, source=kind.password_env),
        )
        for kind, name in wanted
    ]
    if len({request.name for request in requests}) < len(requests):
        raise ConfigurationError("the api and the relay need logins of their own: two names")
    if len({request.password for request in requests}) < len(requests):
        raise WeakPassword(
            " and ".join(request.kind.password_env for request in requests)
            + " are the same: each login needs its own password"
        )
    return requests


def verifier(conn: psycopg.Connection[Any], name: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of the password, computed on this side by libpq."""
    return conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode(
        "ascii"
    )


def statement(name: str, **parts: sql.Composable) -> sql.Composed:
    """A named query of db/queries/logins.sql with identifiers and literals composed in."""
    return sql.SQL(query(name)).format(**parts)


def ensure_login(conn: psycopg.Connection[Any], request: LoginRequest) -> LoginReport:
    """Create or update one login, inside the caller's transaction."""
    name, roles = request.name, request.kind.roles
    missing = [row[0] for row in conn.execute(query("login_missing_roles"), {"roles": list(roles)})]
    if missing:
        raise LoginRefused(
            f"role(s) {', '.join(missing)} do not exist here: run `pyproj-rpc db upgrade` "
            "first (it creates mentoring_relay, and the Supabase roles on plain PostgreSQL)"
        )
    state = conn.execute(query("login_state"), {"login": name}).fetchone()
    if state is not None:
        can_login, superuser, bypassrls, replication = state
        powers = [
            label
            for label, held in (
                ("SUPERUSER", superuser),
                ("BYPASSRLS", bypassrls),
                ("REPLICATION", replication),
            )
            if held
        ]
        if powers:
            raise LoginRefused(
                f"role {name} exists with {', '.join(powers)}: a service must not log in "
                "with such powers; drop the role or choose another name"
            )
        if not can_login:
            raise LoginRefused(
                f"role {name} exists and is not a login (NOLOGIN): it is used for something "
                "else; choose another name"
            )
    parts: dict[str, sql.Composable] = {
        "login": sql.Identifier(name),
        "password": sql.Literal(verifier(conn, name, request.password)),
    }
    conn.execute(statement("login_create" if state is None else "login_update", **parts))
    held = {row[0] for row in conn.execute(query("login_memberships"), {"login": name})}
    granted = tuple(role for role in roles if role not in held)
    revoked = tuple(sorted(held - set(roles)))
    for role in granted:
        conn.execute(statement("login_grant", role=sql.Identifier(role), login=parts["login"]))
    for role in revoked:
        conn.execute(statement("login_revoke", role=sql.Identifier(role), login=parts["login"]))
    return LoginReport(name, state is None, roles, granted, revoked)


def ensure_logins(url: str, requests: Sequence[LoginRequest]) -> list[LoginReport]:
    """Create or update every requested login in one transaction: all of them, or none."""
    try:
        with psycopg.connect(url) as conn, conn.transaction():
            return [ensure_login(conn, request) for request in requests]
    except psycopg.errors.InsufficientPrivilege as exc:
        raise LoginRefused(
            f"the role you connect as may not manage these logins ({exc}): connect as the "
            "database owner with CREATEROLE (on Supabase: postgres)"
        ) from exc
