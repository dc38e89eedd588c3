"""`pyproj-rpc db ...` as a person runs it, in a real subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyproj_rpc import migrations
from pyproj_rpc.cli import exit_codes
from pyproj_rpc.localdb import find_server_binaries
from pyproj_rpc.localdb.binaries import has_extension
from pyproj_rpc.localdb.cluster import process_alive
from tests.support import cli


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


def local_port(home: Path) -> int:
    return int(json.loads(ok(cli(home, "db", "local", "status", "--json")))["port"])


def test_a_persistent_local_cluster_comes_back_on_the_same_port(
    home: Path, shared_tmp: Path
) -> None:
    data_dir = str(shared_tmp / "pgdata")
    ok(cli(home, "db", "local", "start", "--data-dir", data_dir, "--no-pg-cron"))
    url, port = ok(cli(home, "db", "local", "url")).strip(), local_port(home)
    ok(cli(home, "db", "local", "stop"))
    ok(cli(home, "db", "local", "start", "--data-dir", data_dir, "--no-pg-cron"))
    assert local_port(home) == port
    assert ok(cli(home, "db", "local", "url")).strip() == url  # a running client's URL


def test_a_local_cluster_on_a_port_in_use_says_so(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(home, "db", "local", "start", "--port", str(port), "--no-pg-cron")
    assert result.returncode == exit_codes.FAILURE
    assert f"port {port} is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_start_preloads_pg_cron_so_schedule_install_works(home: Path) -> None:
    if not has_extension(find_server_binaries(), "pg_cron"):
        message = "pg_cron is not installed for this server (CI installs postgresql-<major>-cron)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert "pg_cron: preloaded" in ok(cli(home, "db", "local", "start"))
    ok(cli(home, "db", "upgrade"))
    installed = ok(cli(home, "schedule", "install"))
    assert "pyproj-rpc-expire-certifications" in installed


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
