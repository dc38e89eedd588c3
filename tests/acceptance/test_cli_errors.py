"""A user's mistake gets one clear line (a JSON object with ``--json``) and a distinct exit
code, never a traceback: run as a person runs the command, in a subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from pyproj_rpc.cli import exit_codes
from tests.conftest import Database
from tests.support import cli

MENTOR = str(uuid.UUID(int=1))


def assert_clear_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert text in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 5, result.stderr  # click's usage: 4


@pytest.mark.parametrize(
    "args",
    [
        ("mentor", "status", MENTOR, "--service"),
        ("outbox", "status"),
        ("transitions",),
        ("expire-certifications",),
    ],
)
def test_a_database_that_is_not_migrated_is_named_with_the_command_that_fixes_it(
    empty_db: Database, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = cli(tmp_path, *args, "--database-url", empty_db.url)
    assert_clear_error(result, exit_codes.USAGE, "the database is not migrated")
    assert "pyproj-rpc db upgrade" in result.stderr


def test_with_json_an_error_is_a_json_object_with_a_stable_code(
    empty_db: Database, tmp_path: Path
) -> None:
    result = cli(tmp_path, "outbox", "status", "--json", "--database-url", empty_db.url)
    assert result.returncode == exit_codes.USAGE
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["exit_code"]) == ("not_migrated", exit_codes.USAGE)
    assert "pyproj-rpc db upgrade" in error["message"]


def test_with_json_a_bad_option_is_a_json_object_too(tmp_path: Path) -> None:
    result = cli(tmp_path, "outbox", "list", "--state", "bogus", "--json")
    assert result.returncode == exit_codes.USAGE
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "usage"
    assert "--state" in error["message"]


def test_a_malformed_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "outbox", "status", "--database-url", "postgresql://u:p@localhost:notaport/db"
    )
    assert_clear_error(result, exit_codes.USAGE, "malformed database URL")


def test_an_unknown_revision_is_a_usage_error(empty_db: Database, tmp_path: Path) -> None:
    result = cli(tmp_path, "db", "upgrade", "nonsense", "--database-url", empty_db.url)
    assert_clear_error(result, exit_codes.USAGE, "Can't locate revision identified by 'nonsense'")


def test_a_schedule_that_is_not_cron_is_refused_before_the_database_is_touched(
    tmp_path: Path,
) -> None:
    result = cli(tmp_path, "schedule", "install", "--expiry", "nonsense")
    assert_clear_error(result, exit_codes.USAGE, "'nonsense' is not a cron schedule")


def test_the_api_on_a_busy_port_exits_with_the_configuration_code(
    isolated_db: Database, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(
            tmp_path,
            *("api", "--port", str(port), "--jwt-secret", "s" * 40),
            *("--database-url", isolated_db.url),
        )
    assert_clear_error(result, exit_codes.USAGE, f"cannot listen on 127.0.0.1:{port}")
