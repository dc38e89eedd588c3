"""`pyproj-rpc mentor ...` with a reason PostgreSQL cannot hold: exit 2, one clear line.

On POSIX, argv bytes that are not UTF-8 reach Python as lone surrogates
(``surrogateescape``); a NUL cannot be in argv, but can reach the command from Python.
Either is a usage error, refused before the database, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyproj_rpc.cli import exit_codes, main
from tests.conftest import Database
from tests.support import Mentor, World

REPOSITORY = Path(__file__).resolve().parents[2]


def a_coordinated_mentor(database: Database, status: str) -> tuple[str, Mentor]:
    with database.connect() as conn:
        org = World(conn).organization()
        coordinator = org.coordinator()
        mentor = org.mentor(coordinators=(coordinator,), status=status)
        conn.commit()
    return str(coordinator.user_id), mentor


def status_of(database: Database, mentor: Mentor) -> tuple[str, dict[str, int]]:
    with database.connect() as conn:
        world = World(conn)
        return world.status(mentor), world.counts(mentor)


@pytest.mark.parametrize(("command", "status"), [("pause", "active"), ("lift", "paused")])
def test_a_reason_in_bytes_that_are_not_utf8_exits_2_without_a_traceback(
    isolated_db: Database, command: str, status: str
) -> None:
    coordinator, mentor = a_coordinated_mentor(isolated_db, status)
    before = status_of(isolated_db, mentor)
    argv: list[str | bytes] = [sys.executable, "-m", "pyproj_rpc", "mentor", command]
    argv += [str(mentor.id), "--reason", b"caf\xe9", "--as", coordinator]
    argv += ["--database-url", isolated_db.url]
    result = subprocess.run(
        argv,
        capture_output=True,
        cwd=REPOSITORY,
        env=os.environ | {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"},
        timeout=60,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == exit_codes.USAGE, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: invalid_input: reason contains a lone surrogate")
    assert '"field": "reason"' in stderr
    assert status_of(isolated_db, mentor) == before


def test_a_reason_with_a_nul_exits_2_without_a_traceback(isolated_db: Database) -> None:
    coordinator, mentor = a_coordinated_mentor(isolated_db, "active")
    before = status_of(isolated_db, mentor)
    args = ["mentor", "pause", str(mentor.id), "--reason", "on\x00leave", "--as", coordinator]
    result = CliRunner().invoke(main, [*args, "--database-url", isolated_db.url])
    assert result.exit_code == exit_codes.USAGE, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "invalid_input: reason contains a NUL character" in result.stderr
    assert status_of(isolated_db, mentor) == before
