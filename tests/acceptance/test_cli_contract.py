"""`pyproj-rpc contract dump` and `contract diff`, as a maintainer runs them before a release."""

from __future__ import annotations

import shutil
from pathlib import Path

from pyproj_rpc import contract
from tests.conftest import Database
from tests.support import cli

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = ROOT / "contract"

# A scratch revision: api.is_transition_allowed's first argument renamed.
RENAME_AN_ARGUMENT = """
drop function api.is_transition_allowed(text, text);
create function api.is_transition_allowed(from_status text, target_status text)
returns boolean language sql stable
set search_path = pg_catalog, pg_temp
as $$ select exists (select from mentoring.transitions t
                     where t.from_status::text = $1 and t.to_status::text = $2) $$;
"""


def test_dump_writes_the_checked_in_contract(tmp_path: Path) -> None:
    result = cli(tmp_path, "contract", "dump", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr + result.stdout
    assert contract.read(tmp_path / "out") == contract.read(CONTRACT_DIR)
    result = cli(tmp_path, "contract", "dump", "--check", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "matches the migrations" in result.stdout


def test_diff_of_a_contract_with_itself_is_clean(tmp_path: Path) -> None:
    result = cli(tmp_path, "contract", "diff", str(CONTRACT_DIR), str(CONTRACT_DIR))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no difference" in result.stdout


def test_a_renamed_api_argument_fails_diff_with_a_readable_explanation(
    tmp_path: Path, isolated_db: Database
) -> None:
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute(RENAME_AN_ARGUMENT)
    changed = tmp_path / "changed"
    contract.write(changed, contract.from_url(isolated_db.url))
    shutil.copy(CONTRACT_DIR / "openapi.json", changed / "openapi.json")

    result = cli(tmp_path, "contract", "diff", str(CONTRACT_DIR), str(changed))

    assert result.returncode == 1, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert (
        "breaking    api.is_transition_allowed: argument current_status removed (or renamed)"
        in lines
    )
    assert (
        "breaking    api.is_transition_allowed: new required argument from_status (no default)"
        in lines
    )
    assert "consumers of" in lines[-1]
    assert "fn_v2" in lines[-1]


def test_a_new_function_beside_the_old_one_is_compatible(
    tmp_path: Path, isolated_db: Database
) -> None:
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute(
            "create function api.is_transition_allowed_v2(from_status text, to_status text)"
            " returns boolean language sql stable set search_path = pg_catalog, pg_temp"
            " as $$ select api.is_transition_allowed(from_status, to_status) $$"
        )
    changed = tmp_path / "changed"
    contract.write(changed, contract.from_url(isolated_db.url))

    result = cli(tmp_path, "contract", "diff", str(CONTRACT_DIR), str(changed))

    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.splitlines()[0] == (
        "compatible  api.is_transition_allowed_v2: new function"
    )
