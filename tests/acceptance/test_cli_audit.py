"""`pyproj-rpc audit heads|verify` as an operator runs them, in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyproj_rpc.cli import exit_codes
from tests.audit_support import (
    RECHAIN,
    History,
    as_superuser_without_triggers,
    build_history,
    ten_thousand_events,
)
from tests.conftest import Database


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "pyproj_rpc", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def history(isolated_db: Database) -> History:
    return build_history(isolated_db)


def store_heads(database: Database, path: Path) -> dict[str, object]:
    result = cli("audit", "heads", "--json", "--database-url", database.url)
    assert result.returncode == 0, result.stderr
    path.write_text(result.stdout)
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_heads_print_each_chain_head_and_a_digest(isolated_db: Database, history: History) -> None:
    result = cli("audit", "heads", "--database-url", isolated_db.url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["mentor", "sequence", "hash"]
    assert any(line.startswith(f"{history.paused.id}  3  ") for line in lines)
    assert "3 chain head(s) at " in result.stdout
    assert lines[-1].startswith("digest: ")


def test_an_untouched_trail_verifies_against_its_stored_heads(
    isolated_db: Database, history: History, tmp_path: Path
) -> None:
    document = store_heads(isolated_db, tmp_path / "heads.json")
    assert document["mentors"] == 3
    result = cli(
        "audit",
        "verify",
        "--heads",
        str(tmp_path / "heads.json"),
        "--database-url",
        isolated_db.url,
    )
    assert result.returncode == exit_codes.OK, result.stderr
    assert "checked 4 mentor(s), 8 event(s), 3 stored head(s) in " in result.stdout
    assert "the audit trail holds" in result.stdout


def test_a_rewritten_and_rechained_trail_fails_verification_with_exit_5(
    isolated_db: Database, history: History, tmp_path: Path
) -> None:
    store_heads(isolated_db, tmp_path / "heads.json")
    as_superuser_without_triggers(
        isolated_db,
        "update mentoring.status_events set reason = 'Holiday'"
        " where mentor_id = %(m)s and sequence = 1",
        RECHAIN,
        params={"m": history.paused.id},
    )
    assert cli("audit", "verify", "--database-url", isolated_db.url).returncode == 0
    result = cli(
        "audit", "verify", "--heads", str(tmp_path / "heads.json"), "--json",
        "--database-url", isolated_db.url,
    )  # fmt: skip
    assert result.returncode == exit_codes.BROKEN
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [problem] = report["problems"]
    assert (problem["mentor_id"], problem["sequence"], problem["problem"]) == (
        str(history.paused.id),
        3,
        "head_mismatch",
    )
    assert "does not hold" in result.stderr


def test_a_broken_link_is_reported_per_mentor_in_text(
    isolated_db: Database, history: History
) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "delete from mentoring.status_events where mentor_id = %(m)s and sequence = 2",
        params={"m": history.expired.id},
    )
    result = cli("audit", "verify", "--database-url", isolated_db.url)
    assert result.returncode == exit_codes.BROKEN
    [row] = [line for line in result.stdout.splitlines() if str(history.expired.id) in line]
    assert row.split()[1:3] == ["3", "missing_events"]
    mine = cli("audit", "verify", "--mentor", str(history.paused.id), "--database-url",
               isolated_db.url)  # fmt: skip
    assert mine.returncode == exit_codes.OK, mine.stdout


def test_a_changed_heads_file_is_refused_as_bad_input(
    isolated_db: Database, history: History, tmp_path: Path
) -> None:
    path = tmp_path / "heads.json"
    document = store_heads(isolated_db, path)
    heads = document["heads"]
    assert isinstance(heads, list)
    heads[0]["sequence"] = 1
    path.write_text(json.dumps(document))
    result = cli("audit", "verify", "--heads", str(path), "--database-url", isolated_db.url)
    assert result.returncode == exit_codes.USAGE
    assert "digest does not match" in result.stderr


def test_only_roles_that_read_the_whole_trail_may_verify(
    isolated_db: Database, history: History
) -> None:
    service = cli("audit", "verify", "--role", "service_role", "--database-url", isolated_db.url)
    assert service.returncode == exit_codes.OK, service.stderr
    user = cli("audit", "verify", "--role", "authenticated", "--database-url", isolated_db.url)
    assert user.returncode == exit_codes.USAGE
    assert "row-level security" in user.stderr


def test_a_catalog_that_would_run_code_as_the_verifier_exits_5_with_its_findings(
    isolated_db: Database, history: History
) -> None:
    with isolated_db.connect() as conn:
        conn.execute(
            "create function public.kind_as_json(mentoring.actor_kind) returns json"
            " language sql as $$ select pg_catalog.to_json('system'::text) $$"
        )
        conn.execute("create cast (mentoring.actor_kind as json) with function public.kind_as_json")
        conn.commit()
    result = cli(
        "audit", "verify", "--json", "--role", "service_role", "--database-url", isolated_db.url
    )
    assert result.returncode == exit_codes.BROKEN
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "catalog_tampered"
    assert [d["finding"] for d in error["details"]] == ["cast"]
    text = cli("audit", "heads", "--database-url", isolated_db.url)
    assert text.returncode == exit_codes.BROKEN
    assert "refusing to read the audit trail" in text.stderr
    assert "kind_as_json" in text.stderr


def test_ten_thousand_events_verify_from_the_command_line(isolated_db: Database) -> None:
    ten_thousand_events(isolated_db)
    result = cli("audit", "verify", "--database-url", isolated_db.url)
    assert result.returncode == exit_codes.OK, result.stderr
    print("\n" + result.stdout)
    assert ", 10000 event(s), " in result.stdout
