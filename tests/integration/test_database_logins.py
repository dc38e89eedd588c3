"""`pyproj-rpc db logins`: the services log in as NOINHERIT logins, never as the owner.

The REST adapter's login may only become anon, authenticated or service_role (as
PostgREST's authenticator); the relay's login only mentoring_relay. The tests log in with
the passwords the command set, over TCP (password authentication), as the services do.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from click.testing import CliRunner, Result

from pyproj_rpc.cli import exit_codes, main
from pyproj_rpc.client import PauseManagementClient
from pyproj_rpc.identity import Identity
from pyproj_rpc.models import MentorStatus
from tests.conftest import Database
from tests.relay_support import outbox_rows, pause_mentors
from tests.rest_support import PREFIX, auth_headers, serve
from tests.support import Mentor, World, cli

ROOT = Path(__file__).resolve().parents[2]
API_ENV, RELAY_ENV = "PYPROJ_API_DB_PASSWORD", "PYPROJ_RELAY_DB_PASSWORD"
SET_ROLE_SAFELY = "select set_config('role', %s, false)"


@dataclass
class Logins:
    """Login names of this test's own (roles belong to the whole test cluster)."""

    database: Database
    api: str
    relay: str
    api_password: str
    relay_password: str

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        passwords = {API_ENV: self.api_password, RELAY_ENV: self.relay_password}
        return CliRunner().invoke(
            main,
            [
                "db",
                "logins",
                "--api-login",
                self.api,
                "--relay-login",
                self.relay,
                "--database-url",
                self.database.url,
                *args,
            ],
            env=passwords if env is None else env,
        )

    def url(self, login: str, password: str | None = None) -> str:
        if password is None:
            password = self.api_password if login == self.api else self.relay_password
        server = self.database.server
        return (
            f"postgresql://{login}:{quote(password, safe='')}"
            f"@127.0.0.1:{server.port}/{self.database.name}"
        )

    def connect(self, login: str, password: str | None = None) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(login, password), autocommit=True)


def new_password() -> str:
    return secrets.token_hex(24)


def drop_roles(database: Database, *names: str) -> None:
    with database.connect(autocommit=True) as admin:
        for name in names:
            admin.execute(
                psycopg.sql.SQL("drop role if exists {}").format(psycopg.sql.Identifier(name))
            )


@pytest.fixture
def logins(isolated_db: Database) -> Iterator[Logins]:
    names = (f"api_{isolated_db.name}", f"relay_{isolated_db.name}")
    yield Logins(isolated_db, *names, new_password(), new_password())
    drop_roles(isolated_db, *names)


def ok(result: Result) -> str:
    assert result.exit_code == exit_codes.OK, result.output
    return result.stdout


def role(database: Database, name: str) -> dict[str, Any] | None:
    with database.connect() as conn:
        row = conn.execute(
            "select rolcanlogin, rolinherit, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,"
            " rolpassword like 'SCRAM-SHA-256$%%' as scram,"
            " array(select g.rolname::text from pg_auth_members m"
            "       join pg_roles g on g.oid = m.roleid"
            "       where m.member = a.oid order by 1) as member_of"
            " from pg_authid a where rolname = %s",
            (name,),
        ).fetchone()
    if row is None:
        return None
    keys = ("login", "inherit", "super", "createrole", "createdb", "bypassrls", "scram", "of")
    return dict(zip(keys, row, strict=True))


def test_logins_are_noinherit_logins_that_may_only_become_the_roles_of_their_service(
    logins: Logins,
) -> None:
    output = ok(logins.run())
    assert (
        f"created login {logins.api}: NOINHERIT, may SET ROLE anon, authenticated, service_role"
        in output
    )
    assert f"created login {logins.relay}: NOINHERIT, may SET ROLE mentoring_relay" in output
    common = {
        "login": True,
        "inherit": False,
        "super": False,
        "createrole": False,
        "createdb": False,
        "bypassrls": False,
        "scram": True,
    }
    assert role(logins.database, logins.api) == {
        **common,
        "of": ["anon", "authenticated", "service_role"],
    }
    assert role(logins.database, logins.relay) == {**common, "of": ["mentoring_relay"]}


def coordinated_mentor(database: Database) -> tuple[Identity, Mentor]:
    """A committed mentor and their coordinator, in an organization of their own."""
    with database.connect() as conn:
        org = World(conn).organization()
        coordinator = org.coordinator()
        mentor = org.mentor(coordinators=(coordinator,))
        conn.commit()
    return coordinator, mentor


def test_the_api_login_acts_as_a_signed_in_user_and_calls_the_api(logins: Logins) -> None:
    ok(logins.run("--no-relay"))
    coordinator, mentor = coordinated_mentor(logins.database)
    with PauseManagementClient(logins.url(logins.api), identity=coordinator) as client:
        result = client.activate_pause(mentor.id, "Exam week")
        assert result.status is MentorStatus.PAUSED
        assert client.get_current_status(mentor.id).status is MentorStatus.PAUSED


def test_the_api_login_holds_nothing_itself_cannot_read_the_outbox_nor_become_the_owner(
    logins: Logins,
) -> None:
    ok(logins.run("--no-relay"))
    with logins.connect(logins.api) as conn:
        for statement in (
            "select count(*) from mentoring.outbox",
            "select api.is_transition_allowed('active', 'paused')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        for owner_like in ("postgres", "mentoring_relay"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(SET_ROLE_SAFELY, (owner_like,))
        conn.execute(SET_ROLE_SAFELY, ("authenticated",))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from mentoring.outbox")


def test_the_rest_adapter_logged_in_as_the_api_login_is_healthy_and_serves_users(
    logins: Logins,
) -> None:
    ok(logins.run("--no-relay"))
    coordinator, mentor = coordinated_mentor(logins.database)
    with serve(logins.url(logins.api)) as server, server.client() as client:
        assert client.get("/healthz").status_code == 200
        response = client.get(f"{PREFIX}/{mentor.id}/status", headers=auth_headers(coordinator))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "active"
        anonymous = client.get(f"{PREFIX}/{mentor.id}/status")
        assert anonymous.status_code == 401


def test_the_relay_login_delivers_the_outbox_as_mentoring_relay_and_can_do_nothing_else(
    logins: Logins,
) -> None:
    ok(logins.run("--no-api"))
    ids = pause_mentors(logins.database.url, 2)
    relay_url = logins.url(logins.relay)
    delivered = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyproj_rpc",
            "relay",
            "--once",
            "--stdout",
            "--role",
            "mentoring_relay",
            "--retention",
            "off",
            "--database-url",
            relay_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert delivered.returncode == 0, delivered.stderr
    printed = [json.loads(line) for line in delivered.stdout.splitlines() if line.strip()]
    assert sorted(message["id"] for message in printed) == sorted(f"msg_{i}" for i in ids)
    rows = outbox_rows(logins.database.url)
    assert all(rows[i]["delivered_at"] is not None for i in ids)

    with logins.connect(logins.relay) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from mentoring.claim_outbox(10, '1 minute')")  # NOINHERIT
        for other in ("service_role", "authenticated", "anon", "postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(SET_ROLE_SAFELY, (other,))
        conn.execute(SET_ROLE_SAFELY, ("mentoring_relay",))
        conn.execute("select * from mentoring.outbox_stats()")
        for statement in (
            "select count(*) from mentoring.mentors",
            "select api.is_transition_allowed('active', 'paused')",
            "update mentoring.mentors set status = 'expired_cert'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_running_logins_again_rotates_the_passwords_and_revokes_extra_memberships(
    logins: Logins,
) -> None:
    ok(logins.run())
    old_relay_password = logins.relay_password
    with logins.database.connect(autocommit=True) as admin:
        admin.execute(f"grant service_role, authenticated to {logins.relay}")
    logins.relay_password = new_password()
    output = ok(logins.run())
    assert (
        f"updated login {logins.relay} (password set; revoked authenticated, service_role)"
        in output
    )
    assert f"updated login {logins.api} (password set)" in output
    assert role(logins.database, logins.relay)["of"] == ["mentoring_relay"]  # type: ignore[index]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        logins.connect(logins.relay, old_relay_password)
    with logins.connect(logins.relay) as conn:
        assert conn.execute("select current_user").fetchone() == (logins.relay,)


def example_value(name: str) -> str:
    """The value .env.example gives a variable (its placeholder)."""
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not in .env.example")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({RELAY_ENV: "a-good-relay-password-0123456789"}, f"{API_ENV} is not set or empty"),
        ({API_ENV: "", RELAY_ENV: "a-good-relay-password-0123456789"}, "is not set or empty"),
        ({API_ENV: "Sh0rt-but-mixed", RELAY_ENV: "a-good-relay-password-0123456789"}, "too short"),
        (
            {API_ENV: "aaaaaaaabbbbbbbbaaaaaaaa", RELAY_ENV: "a-good-relay-password-0123456789"},
            "too few characters",
        ),
        ("example", "still a placeholder"),
        (
            {API_ENV: "the-same-password-0123456789", RELAY_ENV: "the-same-password-0123456789"},
            "each login needs its own password",
        ),
    ],
)
def test_weak_missing_or_placeholder_passwords_are_refused_before_anything_changes(
    logins: Logins, env: dict[str, str] | str, message: str
) -> None:
    if env == "example":
        env = {name: example_value(name) for name in (API_ENV, RELAY_ENV)}
    assert isinstance(env, dict)
    result = logins.run(env=env)
    assert result.exit_code == exit_codes.USAGE, result.output
    assert message in result.stderr
    assert "openssl rand -hex 32" in result.stderr or "own password" in result.stderr
    assert role(logins.database, logins.api) is None
    assert role(logins.database, logins.relay) is None


def test_a_role_of_that_name_with_superuser_powers_is_refused_not_reused(logins: Logins) -> None:
    with logins.database.connect(autocommit=True) as admin:
        admin.execute(f"create role {logins.api} login superuser")
    result = logins.run("--no-relay")
    assert result.exit_code == exit_codes.FAILURE
    assert f"role {logins.api} exists with SUPERUSER" in result.stderr
    assert role(logins.database, logins.api)["super"] is True  # type: ignore[index]


def test_a_login_without_createrole_is_told_to_connect_as_the_owner(logins: Logins) -> None:
    ok(logins.run("--no-relay"))
    result = CliRunner().invoke(
        main,
        [
            "db",
            "logins",
            "--no-api",
            "--relay-login",
            logins.relay,
            "--database-url",
            logins.url(logins.api),
        ],
        env={RELAY_ENV: logins.relay_password},
    )
    assert result.exit_code == exit_codes.FAILURE
    assert "connect as the database owner with CREATEROLE (on Supabase: postgres)" in result.stderr
    assert role(logins.database, logins.relay) is None


def test_an_owner_with_createrole_but_not_superuser_makes_the_logins_as_on_supabase(
    logins: Logins,
) -> None:
    owner, password = f"owner_{logins.database.name}", new_password()
    with logins.database.connect(autocommit=True) as admin:
        # Supabase's postgres: NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS,
        # a member of the API roles. ADMIN OPTION: what PostgreSQL 16+ also asks for.
        admin.execute(f"create role {owner} login createrole createdb password '{password}'")
        admin.execute(
            f"grant anon, authenticated, service_role, mentoring_relay to {owner} with admin option"
        )
    try:
        result = CliRunner().invoke(
            main,
            [
                "db",
                "logins",
                "--api-login",
                logins.api,
                "--relay-login",
                logins.relay,
                "--database-url",
                logins.url(owner, password),
            ],
            env={API_ENV: logins.api_password, RELAY_ENV: logins.relay_password},
        )
        assert result.exit_code == exit_codes.OK, result.output
        with logins.connect(logins.relay) as conn:
            conn.execute(SET_ROLE_SAFELY, ("mentoring_relay",))
    finally:
        drop_roles(logins.database, logins.api, logins.relay, owner)


def test_the_default_logins_are_pyproj_api_and_pyproj_relay(isolated_db: Database) -> None:
    env = {API_ENV: new_password(), RELAY_ENV: new_password()}
    try:
        result = CliRunner().invoke(
            main, ["db", "logins", "--database-url", isolated_db.url], env=env
        )
        assert result.exit_code == 0, result.output
        assert role(isolated_db, "pyproj_api")["of"] == [  # type: ignore[index]
            "anon",
            "authenticated",
            "service_role",
        ]
        assert role(isolated_db, "pyproj_relay")["of"] == ["mentoring_relay"]  # type: ignore[index]
    finally:
        drop_roles(isolated_db, "pyproj_api", "pyproj_relay")


def test_the_relay_login_without_role_gets_a_clear_error_naming_role(
    logins: Logins, tmp_path: Path
) -> None:
    ok(logins.run())
    result = cli(tmp_path, "outbox", "status", "--database-url", logins.url(logins.relay))
    assert result.returncode == exit_codes.USAGE, result.stderr
    assert "Traceback" not in result.stderr
    assert "not allowed" in result.stderr
    assert "--role" in result.stderr
