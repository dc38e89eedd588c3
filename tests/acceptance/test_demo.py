"""The demo runs to completion on a fresh local cluster and tells each step's outcome."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pyproj_rpc.cli import exit_codes
from tests.conftest import Database
from tests.support import World, cli


def test_the_demo_narrates_every_step_and_removes_its_cluster(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "pyproj_rpc", "demo"],
        env={**env, "PYPROJ_RPC_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "1. Ada pauses herself for exam week.\n   ok: active -> paused; notified: casey.",
        "2. Casey pauses Ben until ",
        "   ok: active -> paused; notified: jordan.",
        "3. Ben tries to end the pause Casey started.\n"
        "   refused, as the rules say: forbidden (403)",
        "4. Casey lifts Ben's pause.\n   ok: paused -> active",
        "5. The scheduler (service_role) expires Dan, whose certification lapsed.\n"
        "   ok: active -> expired_cert",
        "Dan     expired_cert  lapsed",
        "Notifications written to the outbox",
        "The relay delivers them",
        "delivered 4; the outbox now holds 0 pending, 4 delivered, 0 dead-lettered",
        "Stopped and removed the local cluster",
    ):
        assert expected in out, expected
    assert out.count("status_changed") == 4
    delivered = re.findall(r"^   msg_\d+ -> (\w+): (\w+) (\w+ -> \w+)", out, re.MULTILINE)
    assert sorted(delivered) == [
        ("Casey", "Ada", "active -> paused"),
        ("Casey", "Dan", "active -> expired_cert"),
        ("Jordan", "Ben", "active -> paused"),
        ("Jordan", "Ben", "paused -> active"),
    ]
    # one mentor's notifications in the order of the changes; mentors among themselves: any
    assert [change for _, name, change in delivered if name == "Ben"] == [
        "active -> paused",
        "paused -> active",
    ]


def test_the_demo_runs_again_on_the_same_database(isolated_db: Database, tmp_path: Path) -> None:
    env = {**os.environ, "PYPROJ_RPC_HOME": str(tmp_path)}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "pyproj_rpc", "demo", "--database-url", isolated_db.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "pyproj-rpc mentor status " in result.stdout
        assert "delivered 4; the outbox now holds 0 pending" in result.stdout


def demo_in(database: Database, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(home, "demo", "--no-relay", *args, env={"DATABASE_URL": database.url})


def organizations(database: Database) -> int:
    with database.connect() as conn:
        row = conn.execute("select count(*) from mentoring.organizations").fetchone()
    assert row is not None
    return int(row[0])


def test_the_demo_never_writes_to_the_database_url_of_the_environment(
    isolated_db: Database, tmp_path: Path
) -> None:
    result = demo_in(isolated_db, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "$DATABASE_URL is set; the demo does not use it" in result.stdout
    assert "Stopped and removed the local cluster" in result.stdout
    assert organizations(isolated_db) == 0


def test_the_demo_refuses_a_database_with_other_data_unless_told_yes(
    isolated_db: Database, tmp_path: Path
) -> None:
    with isolated_db.connect() as conn:
        World(conn).organization()  # someone's real organization
        conn.commit()
    refused = demo_in(isolated_db, tmp_path, "--database-url", isolated_db.url)
    assert refused.returncode == exit_codes.USAGE
    assert "holds data the demo did not write" in refused.stderr
    assert "--yes" in refused.stderr
    assert organizations(isolated_db) == 1
    accepted = demo_in(isolated_db, tmp_path, "--database-url", isolated_db.url, "--yes")
    assert accepted.returncode == 0, accepted.stderr
    assert organizations(isolated_db) == 2
