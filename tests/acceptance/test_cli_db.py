"""`pyproj-rpc db ...` as a person runs it, in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyproj_rpc import migrations
from pyproj_rpc.cli import exit_codes
from pyproj_rpc.localdb.cluster import process_alive


def cli(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "pyproj_rpc", *args],
        env={**base, "PYPROJ_RPC_HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    cli(tmp_path, "db", "local", "stop")


def test_local_start_upgrade_downgrade_upgrade_then_stop(home: Path) -> None:
    started = ok(cli(home, "db", "local", "start"))
    assert "Supabase compatibility: created role anon, role authenticated" in started
    url = ok(cli(home, "db", "local", "url")).strip()
    assert url.startswith("postgresql://postgres:")
    assert "already running" in ok(cli(home, "db", "local", "start"))

    head = f"{migrations.head_revision()} (head)"
    assert f"at revision: {head}" in ok(cli(home, "db", "upgrade"))
    assert "at revision: base" in ok(cli(home, "db", "downgrade", "base"))
    assert f"at revision: {head}" in ok(cli(home, "db", "upgrade"))
    assert ok(cli(home, "db", "current")).strip() == head
    assert ok(cli(home, "db", "bootstrap")).strip() == "Supabase compatibility: nothing missing"

    status = json.loads(ok(cli(home, "db", "local", "status", "--json")))
    assert status["running"] is True
    assert ok(cli(home, "db", "local", "stop")).strip() == "stopped"
    assert not process_alive(status["pid"])
    assert not Path(status["data_dir"]).exists()
    assert json.loads(ok(cli(home, "db", "local", "status", "--json"))) == {"running": False}


def test_db_sql_prints_the_whole_migration_without_a_database(home: Path) -> None:
    out = ok(cli(home, "db", "sql"))
    assert "create schema mentoring;" in out
    assert out.rstrip().endswith("COMMIT;")
    down = ok(cli(home, "db", "sql", "--downgrade", "--from", "head", "--to", "base"))
    assert "drop schema mentoring cascade;" in down


def test_history_lists_the_revisions(home: Path) -> None:
    assert "<base> -> 0001" in ok(cli(home, "db", "history"))


def test_no_database_configured_is_a_usage_error_with_a_hint(home: Path) -> None:
    result = cli(home, "db", "current")
    assert result.returncode == exit_codes.USAGE
    assert "pyproj-rpc db local start" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_reported_without_a_traceback(home: Path) -> None:
    result = cli(home, "db", "current", "--database-url", "postgresql://nobody@127.0.0.1:1/x")
    assert result.returncode == exit_codes.UNAVAILABLE
    assert result.stderr.startswith("error: cannot reach the database")
    assert "Traceback" not in result.stderr


def test_db_schema_writes_the_schema_file_and_check_fails_with_a_diff_when_stale(
    home: Path, tmp_path: Path
) -> None:
    schema = tmp_path / "schema.sql"
    assert "wrote" in ok(cli(home, "db", "schema", "--output", str(schema)))
    written = schema.read_text()
    assert "CREATE FUNCTION api.activate_pause(" in written
    assert "matches the migrations" in ok(cli(home, "db", "schema", "--check", "-o", str(schema)))

    schema.write_text(
        written.replace("CREATE FUNCTION api.activate_pause(", "CREATE FUNCTION api.x(")
    )
    stale = cli(home, "db", "schema", "--check", "--output", str(schema))
    assert stale.returncode == exit_codes.FAILURE
    assert "+CREATE FUNCTION api.activate_pause(" in stale.stdout
    assert "-CREATE FUNCTION api.x(" in stale.stdout
    assert "pyproj-rpc db schema" in stale.stderr
    assert schema.read_text() != written  # --check writes nothing
