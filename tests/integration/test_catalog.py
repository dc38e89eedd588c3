"""Catalog checks in the spirit of Supabase's database linter, over our schemas."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

OUR_SCHEMAS = ["mentoring", "api"]
EXPOSED_SCHEMAS = ["api"]


def rows(db: psycopg.Connection[Any], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return db.execute(sql, params).fetchall()


def test_every_table_has_row_level_security(db: psycopg.Connection[Any]) -> None:
    assert (
        rows(
            db,
            "select c.oid::regclass::text from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = any(%s) and c.relkind in ('r', 'p') and not c.relrowsecurity",
            OUR_SCHEMAS,
        )
        == []
    )


def search_paths(db: psycopg.Connection[Any], schemas: list[str]) -> dict[str, str | None]:
    return {
        row[0]: row[1]
        for row in rows(
            db,
            "select p.oid::regprocedure::text,"
            " (select substr(c, 13) from unnest(p.proconfig) c where c like 'search_path=%%')"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = any(%s)",
            schemas,
        )
    }


def test_every_function_searches_pg_catalog_then_pg_temp_last(
    db: psycopg.Connection[Any],
) -> None:
    """An unset or empty search_path searches the caller's temporary schema first."""
    unsafe = {
        function: path
        for function, path in search_paths(db, OUR_SCHEMAS).items()
        if path != "pg_catalog, pg_temp"
    }
    assert unsafe == {}


def test_the_auth_functions_we_create_search_pg_temp_last(db: psycopg.Connection[Any]) -> None:
    assert search_paths(db, ["auth"]) == {
        "auth.uid()": "pg_catalog, pg_temp",
        "auth.role()": "pg_catalog, pg_temp",
        "auth.jwt()": "pg_catalog, pg_temp",
    }


def test_every_api_function_runs_as_its_caller(db: psycopg.Connection[Any]) -> None:
    assert (
        rows(
            db,
            "select p.oid::regprocedure::text from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = any(%s) and p.prosecdef",
            EXPOSED_SCHEMAS,
        )
        == []
    )


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_no_exposed_security_definer_function_is_executable_by_clients(
    db: psycopg.Connection[Any], role: str
) -> None:
    assert (
        rows(
            db,
            "select p.oid::regprocedure::text from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = any(%s) and p.prosecdef"
            " and has_function_privilege(%s, p.oid, 'execute')",
            EXPOSED_SCHEMAS,
            role,
        )
        == []
    )


def test_no_function_of_ours_is_executable_by_public_or_anon(db: psycopg.Connection[Any]) -> None:
    assert (
        rows(
            db,
            "select p.oid::regprocedure::text from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = any(%s)"
            " and (has_function_privilege('anon', p.oid, 'execute')"
            "      or exists (select from aclexplode(p.proacl) a"
            "                 where a.grantee = 0 and a.privilege_type = 'EXECUTE')"
            "      or p.proacl is null)",
            OUR_SCHEMAS,
        )
        == []
    )


def test_trigger_and_notification_functions_are_for_the_owner_alone(
    db: psycopg.Connection[Any],
) -> None:
    owner_only = [
        "mentoring.mentors_before_update()",
        "mentoring.pause_findings(uuid)",
        "mentoring.mentors_apply_transitions()",
        "mentoring.wake_relays()",
        "mentoring.notification_recipients(mentoring.mentors,uuid)",
        "mentoring.is_state_machine_writing()",
        "mentoring.refuse_foreign_event()",
        "mentoring.refuse_pause_removal()",
        "mentoring.refuse_pause_rewrite()",
        "mentoring.status_event_hash(bytea,uuid,integer,mentoring.mentor_status,"
        "mentoring.mentor_status,text,uuid,mentoring.actor_kind,text,boolean,jsonb,uuid,uuid,"
        "timestamp with time zone,mentoring.pause_periods)",
    ]
    for function in owner_only:
        for role in ("authenticated", "service_role"):
            granted = db.execute(
                "select has_function_privilege(%s, %s::regprocedure, 'execute')", (role, function)
            ).fetchone()
            assert granted == (False,), (function, role)


def test_no_api_function_is_overloaded(db: psycopg.Connection[Any]) -> None:
    assert (
        rows(
            db,
            "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'api' group by p.proname having count(*) > 1",
        )
        == []
    )


def test_the_api_is_exactly_the_contract(db: psycopg.Connection[Any]) -> None:
    signatures = {
        row[0]
        for row in rows(
            db,
            "select p.proname || '(' || pg_get_function_arguments(p.oid) || ')' from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'api'",
        )
    }
    assert signatures == {
        "activate_pause(mentor_id uuid, reason text, expected_return_date date DEFAULT NULL::date,"
        " force boolean DEFAULT false, idempotency_key uuid DEFAULT NULL::uuid)",
        "lift_pause(mentor_id uuid, reason text DEFAULT NULL::text,"
        " idempotency_key uuid DEFAULT NULL::uuid)",
        "reactivate_mentor(mentor_id uuid, reason text DEFAULT NULL::text,"
        " idempotency_key uuid DEFAULT NULL::uuid)",
        "auto_expire_for_certification(mentor_id uuid)",
        "get_current_status(mentor_id uuid)",
        "get_pause_history(mentor_id uuid)",
        "get_paused_mentors(coordinator_id uuid DEFAULT NULL::uuid)",
        "is_transition_allowed(current_status text, target_status text)",
        "expire_lapsed_certifications(batch_size integer DEFAULT 500)",
    }


def policies(db: psycopg.Connection[Any]) -> list[tuple[str, str, str, str | None, str | None]]:
    return [
        (row[0], row[1], row[2], row[3], row[4])
        for row in rows(
            db,
            "select schemaname || '.' || tablename, policyname, cmd, qual, with_check"
            " from pg_policies where schemaname = any(%s)",
            OUR_SCHEMAS,
        )
    ]


def test_no_write_policy_is_always_true(db: psycopg.Connection[Any]) -> None:
    always_true = [
        (table, name)
        for table, name, cmd, qual, check in policies(db)
        if cmd != "SELECT" and "true" in (qual, check)
    ]
    assert always_true == []


def test_auth_functions_in_policies_are_wrapped_in_a_select(db: psycopg.Connection[Any]) -> None:
    unwrapped = []
    for table, name, _, qual, check in policies(db):
        for expression in (qual or "", check or ""):
            calls = len(re.findall(r"auth\.(uid|jwt|role)\(\)", expression))
            wrapped = len(re.findall(r"\(\s*SELECT auth\.(uid|jwt|role)\(\) AS", expression))
            if calls != wrapped:
                unwrapped.append((table, name, expression))
    assert unwrapped == []


def leading_index_columns(db: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    return {
        (row[0], row[1])
        for row in rows(
            db,
            "select i.indrelid::regclass::text, a.attname from pg_index i"
            " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]"
            " join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = any(%s)",
            OUR_SCHEMAS,
        )
    }


def test_every_foreign_key_has_an_index_starting_with_its_columns(
    db: psycopg.Connection[Any],
) -> None:
    unindexed = rows(
        db,
        "select c.conrelid::regclass::text, c.conname from pg_constraint c"
        " join pg_namespace n on n.oid = c.connamespace"
        " where c.contype = 'f' and n.nspname = any(%s)"
        " and not exists (select from pg_index i where i.indrelid = c.conrelid"
        "   and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey"
        "   and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)",
        OUR_SCHEMAS,
    )
    assert unindexed == []


def test_every_column_a_policy_filters_on_leads_an_index(db: psycopg.Connection[Any]) -> None:
    indexed = leading_index_columns(db)
    columns = {
        table: [
            row[0]
            for row in rows(
                db,
                "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0"
                " and not attisdropped",
                table,
            )
        ]
        for table, *_ in policies(db)
    }
    missing = set()
    for table, _, _, qual, check in policies(db):
        expression = f"{qual or ''} {check or ''}"
        for column in columns[table]:
            if re.search(rf"\b{column}\b", expression) and (table, column) not in indexed:
                missing.add((table, column))
    assert missing == set()


def test_the_policy_helpers_filter_on_indexed_columns(db: psycopg.Connection[Any]) -> None:
    indexed = leading_index_columns(db)
    for column in [
        ("mentoring.organization_staff", "user_id"),
        ("mentoring.mentor_coordinators", "coordinator_id"),
        ("mentoring.mentors", "user_id"),
        ("mentoring.mentors", "organization_id"),
    ]:
        assert column in indexed, column
