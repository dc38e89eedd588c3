"""`supabase db lint --level warning` reports nothing for the api and mentoring schemas.

The real Supabase CLI (npm supabase@2.117.0: package.json, installed by `npm ci` in
.ci/run) runs plpgsql_check (Debian's postgresql-<major>-plpgsql-check) over every
PL/pgSQL function of a database migrated to head. Its checks need no
shared_preload_libraries (only its profiler and tracer do): the CLI creates the extension
inside a transaction that it rolls back, so the database keeps nothing of the lint.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database

REPO = Path(__file__).resolve().parents[2]
SUPABASE = REPO / "node_modules" / ".bin" / "supabase"
SCHEMAS = ("api", "mentoring")


def unavailable(message: str) -> None:
    """Skip outside CI; in CI (env CI set) a missing tool is a failure."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def lintable_db(isolated_db: Database) -> Database:
    """A database at head on a server where the CLI can create plpgsql_check."""
    if not SUPABASE.exists():
        unavailable("the Supabase CLI is not installed: run `npm ci` (CI does)")
    with isolated_db.connect() as conn:
        row = conn.execute(
            "select (select count(*) from pg_available_extensions where name = 'plpgsql_check'),"
            " current_setting('server_version_num')::integer / 10000"
        ).fetchone()
    assert row is not None
    available, major = row
    if not available:
        unavailable(
            f"plpgsql_check is not installed for PostgreSQL {major}: "
            f"apt-get install postgresql-{major}-plpgsql-check (CI does)"
        )
    return isolated_db


def supabase_db_lint(database: Database, tmp_path: Path) -> list[dict[str, Any]]:
    """The CLI's findings at level warning for our schemas (it prints none when clean)."""
    result = subprocess.run(
        [
            str(SUPABASE),
            "db",
            "lint",
            "--db-url",
            f"{database.tcp_url}?sslmode=disable",
            "--level",
            "warning",
            "--schema",
            ",".join(SCHEMAS),
        ],
        # No project directory, no telemetry, nothing written to the user's home.
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), "SUPABASE_TELEMETRY_DISABLED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    for schema in SCHEMAS:
        assert f"Linting schema: {schema}" in result.stderr, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout) if result.stdout.strip() else []
    return findings


def test_supabase_db_lint_reports_nothing_for_api_and_mentoring(
    lintable_db: Database, tmp_path: Path
) -> None:
    findings = supabase_db_lint(lintable_db, tmp_path)
    assert findings == [], json.dumps(findings, indent=2)
    with lintable_db.connect() as conn:
        left = conn.execute("select count(*) from pg_extension where extname = 'plpgsql_check'")
        assert left.fetchone() == (0,)  # the lint changed nothing


def test_supabase_db_lint_reports_a_text_value_assigned_to_jsonb(
    lintable_db: Database, tmp_path: Path
) -> None:
    with lintable_db.connect() as conn:
        conn.execute(
            "create function mentoring.lint_example() returns jsonb language plpgsql"
            " set search_path = pg_catalog, pg_temp"
            " as $$ declare found jsonb := '[]'; begin return found; end $$"
        )
        conn.commit()
    findings = supabase_db_lint(lintable_db, tmp_path)
    assert [finding["function"] for finding in findings] == ["mentoring.lint_example"]
    assert [issue["sqlState"] for issue in findings[0]["issues"]] == ["42804"]
