"""Typed supabase-js: contract/database.types.ts matches the api schema, and tsc refuses
a call with a misspelled argument or a wrong type.

TypeScript and @supabase/supabase-js come pinned from package.json (`npm ci`, as
.ci/run does). Without node_modules the tsc tests are skipped, except in CI (env CI set).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pyproj_rpc import typescript_types
from pyproj_rpc.cli import main
from tests.conftest import Database

REPO = Path(__file__).resolve().parents[2]
TYPES_FILE = REPO / "contract" / "database.types.ts"
EXAMPLES = REPO / "contract" / "examples"
TSC = REPO / "node_modules" / ".bin" / "tsc"


def tsc(tsconfig: str) -> subprocess.CompletedProcess[str]:
    if not TSC.exists():
        message = "TypeScript is not installed: run `npm ci` (CI does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [str(TSC), "--noEmit", "--strict", "-p", str(EXAMPLES / tsconfig)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_checked_in_types_match_the_api_schema(db: psycopg.Connection[Any]) -> None:
    recorded = TYPES_FILE.read_text()
    current = typescript_types.generate(db)
    assert recorded == current, (
        typescript_types.diff(recorded, current, "contract/database.types.ts")
        + f"\ncontract/database.types.ts is stale: run `{typescript_types.REGENERATE}`"
    )


def test_the_command_writes_the_file_and_its_check_shows_a_stale_one(
    shared_db: Database, tmp_path: Path
) -> None:
    output = tmp_path / "types" / "database.types.ts"
    command = ["contract", "typescript", "--database-url", shared_db.url, "--output", str(output)]
    written = CliRunner().invoke(main, command)
    assert written.exit_code == 0, written.output
    assert output.read_text() == TYPES_FILE.read_text()

    output.write_text(output.read_text().replace("mentor_id: string", "mentor: string", 1))
    checked = CliRunner().invoke(main, [*command, "--check"])
    assert checked.exit_code == 1
    assert "-          mentor: string\n+          mentor_id: string" in checked.output
    assert "run `pyproj-rpc contract typescript`" in checked.output


def test_the_types_list_every_api_function_with_its_arguments(
    db: psycopg.Connection[Any],
) -> None:
    text = typescript_types.generate(db)
    assert (
        "      activate_pause: {\n"
        "        Args: {\n"
        "          expected_return_date?: string\n"
        "          force?: boolean\n"
        "          idempotency_key?: string\n"
        "          mentor_id: string\n"
        "          reason: string\n"
        "        }\n"
        "        Returns: Json\n"
    ) in text
    assert (
        "      get_paused_mentors: {\n        Args: {\n          coordinator_id?: string\n" in text
    )
    assert "Returns: Json[]\n" in text  # setof jsonb
    names = db.execute(
        "select distinct proname::text from pg_proc where pronamespace = 'api'::regnamespace"
    ).fetchall()
    for (name,) in names:
        assert f"\n      {name}: {{\n" in text


def test_enums_composites_overloads_and_table_results_are_typed(
    db: psycopg.Connection[Any],
) -> None:
    db.execute(
        """
        create type api.colour as enum ('red', 'green');
        create type api.pair as (left_side integer, right_side mentoring.mentor_status);
        create function api.scratch_status(status mentoring.mentor_status, tags text[],
            colour api.colour default 'red') returns table (id uuid, pair api.pair)
          language sql set search_path = pg_catalog, pg_temp as 'select null::uuid, null::api.pair';
        create function api.scratch_status(note text) returns void
          language sql set search_path = pg_catalog, pg_temp as 'select';
        """
    )
    text = typescript_types.generate(db)
    db.rollback()
    assert (
        "      scratch_status:\n"
        "        | {\n"
        "          Args: {\n"
        '            colour?: Database["api"]["Enums"]["colour"]\n'
        '            status: Database["api"]["Enums"]["mentor_status"]\n'
        "            tags: string[]\n"
        "          }\n"
        "          Returns: {\n"
        "            id: string\n"
        '            pair: Database["api"]["CompositeTypes"]["pair"]\n'
        "          }[]\n"
        "        }\n"
        "        | {\n"
        "          Args: {\n"
        "            note: string\n"
        "          }\n"
        "          Returns: undefined\n"
        "        }\n"
    ) in text
    assert '      colour: "red" | "green"\n' in text
    assert '      mentor_status: "active" | "paused" | "expired_cert"\n' in text
    assert (
        "      pair: {\n"
        "        left_side: number | null\n"
        '        right_side: Database["api"]["Enums"]["mentor_status"] | null\n'
        "      }\n"
    ) in text
    assert '      colour: ["red", "green"],\n' in text


def test_every_rpc_called_through_supabase_js_type_checks() -> None:
    result = tsc("tsconfig.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelled_argument_or_a_wrong_type_does_not_compile() -> None:
    result = tsc("tsconfig.broken.json")
    assert result.returncode != 0
    errors = [line for line in result.stdout.splitlines() if "error TS" in line]
    assert len(errors) == 3, result.stdout
    assert "'mentor_idd' does not exist" in errors[0]
    assert "'idempotency_keys' does not exist" in errors[1]
    assert "Type 'string' is not assignable to type 'number'" in errors[2]
