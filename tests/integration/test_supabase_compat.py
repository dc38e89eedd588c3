"""The Supabase bootstrap creates only what is missing, with Supabase's definitions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from pyproj_rpc import migrations
from tests.conftest import Database

CATALOG_SNAPSHOT = """
select
  (select json_agg(json_build_object('name', rolname, 'login', rolcanlogin,
                                     'bypassrls', rolbypassrls, 'inherit', rolinherit)
                   order by rolname)
     from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')),
  (select json_agg(pg_get_functiondef(p.oid) order by p.proname)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'auth'),
  (select json_agg(attname order by attnum) from pg_attribute
     where attrelid = 'auth.users'::regclass and attnum > 0)
"""


def run_compat(database: Database) -> list[str]:
    with database.connect(autocommit=True) as conn:
        return migrations.apply_supabase_compat(conn)


def snapshot(database: Database) -> Any:
    with database.connect() as conn:
        return conn.execute(CATALOG_SNAPSHOT).fetchone()


def test_running_the_bootstrap_again_changes_nothing(isolated_db: Database) -> None:
    before = snapshot(isolated_db)
    assert run_compat(isolated_db) == []
    assert run_compat(isolated_db) == []
    assert snapshot(isolated_db) == before


def test_on_an_empty_database_it_creates_the_auth_schema_and_functions(pg_server: Any) -> None:
    fresh = Database(pg_server, f"compat_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(pg_server.socket_url(), autocommit=True) as admin:
        admin.execute(f'create database "{fresh.name}"')
    try:
        created = run_compat(fresh)
        assert {"schema auth", "table auth.users", "function auth.uid()"} <= set(created)
        assert run_compat(fresh) == []
    finally:
        with psycopg.connect(pg_server.socket_url(), autocommit=True) as admin:
            admin.execute(f'drop database "{fresh.name}"')


def test_an_existing_supabase_function_is_left_untouched(isolated_db: Database) -> None:
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute(
            "create or replace function auth.uid() returns uuid language sql stable "
            "as $$ select '00000000-0000-0000-0000-000000000001'::uuid $$"
        )
    assert run_compat(isolated_db) == []
    with isolated_db.connect() as conn:
        assert conn.execute("select auth.uid()::text").fetchone() == (
            "00000000-0000-0000-0000-000000000001",
        )


def test_service_role_bypasses_rls_and_authenticator_can_become_each_api_role(
    db: psycopg.Connection[Any],
) -> None:
    row = db.execute("select rolbypassrls from pg_roles where rolname = 'service_role'").fetchone()
    assert row == (True,)
    for role in ("anon", "authenticated", "service_role"):
        member = db.execute("select pg_has_role('authenticator', %s, 'member')", (role,)).fetchone()
        assert member == (True,), role


def uid_with(db: psycopg.Connection[Any], settings: dict[str, str]) -> Any:
    with db.transaction(force_rollback=True):
        for name, value in settings.items():
            db.execute("select set_config(%s, %s, true)", (name, value))
        return db.execute("select auth.uid(), auth.role(), auth.jwt()").fetchone()


def test_auth_uid_reads_the_sub_claim(db: psycopg.Connection[Any]) -> None:
    user_id = uuid.uuid4()
    claims = {"sub": str(user_id), "role": "authenticated"}
    assert uid_with(db, {"request.jwt.claims": json.dumps(claims)}) == (
        user_id,
        "authenticated",
        claims,
    )


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="claims-absent"),
        pytest.param({"request.jwt.claims": ""}, id="claims-empty"),
        pytest.param({"request.jwt.claims": '{"role": "anon"}'}, id="anon"),
    ],
)
def test_auth_uid_is_null_without_a_signed_in_user(
    db: psycopg.Connection[Any], settings: dict[str, str]
) -> None:
    uid, _, _ = uid_with(db, settings)
    assert uid is None


def test_auth_uid_still_honours_postgrest_9s_single_claim_setting(
    db: psycopg.Connection[Any],
) -> None:
    user_id = uuid.uuid4()
    uid, _, _ = uid_with(db, {"request.jwt.claim.sub": str(user_id)})
    assert uid == user_id


def test_auth_functions_an_earlier_bootstrap_left_searching_pg_temp_first_are_repaired(
    isolated_db: Database,
) -> None:
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute("alter function auth.uid() set search_path = ''")
        conn.execute("alter function auth.jwt() set search_path = ''")
    assert sorted(run_compat(isolated_db)) == [
        "repaired search_path of function auth.jwt()",
        "repaired search_path of function auth.uid()",
    ]
    with isolated_db.connect() as conn:
        configs = conn.execute(
            "select array_agg(p.proconfig[1] order by p.proname) from pg_proc p"
            " where p.pronamespace = 'auth'::regnamespace"
        ).fetchone()
    assert configs == (["search_path=pg_catalog, pg_temp"] * 3,)
    assert run_compat(isolated_db) == []
