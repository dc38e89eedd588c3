"""contract/ is what the migrations and the REST adapter offer consumers; CI fails when the
checked-in copy is stale, or when it breaks the last release without a version bump."""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg.rows import dict_row

from pyproj_rpc import contract, contract_diff
from pyproj_rpc.identity import Identity, postgrest_request
from tests.conftest import Database
from tests.support import World, behind_the_state_machine, call

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = ROOT / "contract"


def package_version() -> str:
    version: str = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return version


def test_the_checked_in_contract_matches_the_migrated_database(template_db: Database) -> None:
    recorded = contract.read(CONTRACT_DIR)
    current = contract.from_url(template_db.url)
    if recorded != current:
        pytest.fail(
            "contract/ differs from what the migrations and the REST adapter offer "
            f"(regenerate it with `{contract.REGENERATE}`, review the changes with "
            "`pyproj-rpc contract diff contract/released/<version> contract` and commit "
            "them):\n" + contract.diff(recorded, current),
            pytrace=False,
        )


def test_the_contract_breaks_nothing_of_the_last_release_unless_the_version_says_so() -> None:
    problems = contract_diff.release_problems(
        CONTRACT_DIR,
        CONTRACT_DIR / contract.RELEASED_DIR,
        package_version(),
        (ROOT / "CHANGELOG.md").read_text(),
    )
    assert not problems, "\n".join(problems)


def test_the_released_contract_of_this_version_is_kept() -> None:
    released = contract_diff.latest_release(CONTRACT_DIR / contract.RELEASED_DIR)
    assert released is not None
    assert contract_diff.parse_version(released) <= contract_diff.parse_version(package_version())


# -- the schemas describe what consumers really receive ---------------------------------


def outbox_payloads(world: World, kind: str) -> list[dict[str, Any]]:
    with world.conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "select payload from mentoring.outbox where kind = %s order by id", (kind,)
        ).fetchall()
    return [row["payload"] for row in rows]


def test_webhook_payloads_have_exactly_the_documented_keys_and_types(world: World) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    today = world.today(org.id)
    call(  # the coordinator hears of it
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="leave",
        expected_return_date=today + timedelta(days=10),
    )
    behind_the_state_machine(
        world.conn,
        "update mentoring.pause_periods set start_date = start_date - 13,"
        " expected_return_date = expected_return_date - 13 where mentor_id = %s",
        (mentor.id,),
    )
    with postgrest_request(world.conn, Identity.service()) as cur:
        cur.execute("select mentoring.remind_overdue_pauses(500)")
    for kind, model in contract.WEBHOOK_PAYLOADS.items():
        payloads = outbox_payloads(world, kind)
        assert payloads, f"no {kind} notification to check"
        for payload in payloads:
            # JSON as the relay sends it; extra keys and missing keys both fail
            model.model_validate_json(json.dumps(payload))
            assert set(payload) == set(model.model_fields)


def required_fields(schema: dict[str, Any]) -> set[str]:
    root = schema
    ref = root.get("$ref") or root.get("items", {}).get("$ref")
    if ref:
        root = schema["$defs"][ref.rsplit("/", 1)[-1]]
    return set(root.get("required", []))


def test_rpc_results_carry_every_field_their_schema_requires(world: World) -> None:
    schemas = json.loads((CONTRACT_DIR / "results.schema.json").read_text())
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    results = {
        "activate_pause": call(
            world.conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="leave"
        ),
        "get_current_status": call(
            world.conn, coordinator, "get_current_status", mentor_id=mentor.id
        ),
        "get_pause_history": call(
            world.conn, coordinator, "get_pause_history", mentor_id=mentor.id
        ),
    }
    for name, result in results.items():
        missing = required_fields(schemas[name]) - set(result)
        assert not missing, f"{name} returns no {sorted(missing)}"
    paused = call(world.conn, coordinator, "get_paused_mentors")
    assert paused
    for row in paused:
        assert not required_fields(schemas["get_paused_mentors"]) - set(row)
