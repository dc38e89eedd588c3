"""`contract diff` tells a consumer which changes keep them working and which may not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pyproj_rpc.contract_diff import (
    Kind,
    allows_breaking,
    changelog_names,
    compare,
    is_breaking,
    load,
    release_problems,
)


def argument(name: str, type_: str = "uuid", *, default: bool = False) -> dict[str, Any]:
    return {"name": name, "type": type_, "has_default": default}


def function(*arguments: dict[str, Any], returns: str = "jsonb") -> dict[str, Any]:
    return {
        "arguments": list(arguments),
        "defaults": None,
        "returns": returns,
        "returns_set": False,
        "volatility": "volatile",
        "security": "invoker",
    }


STATUS_SCHEMA: dict[str, Any] = {
    "$defs": {
        "MentorStatus": {"enum": ["active", "paused"], "type": "string"},
        "CurrentStatus": {
            "properties": {
                "mentor_id": {"format": "uuid", "type": "string"},
                "status": {"$ref": "#/$defs/MentorStatus"},
                "since": {"format": "date-time", "type": "string"},
            },
            "required": ["mentor_id", "status", "since"],
            "type": "object",
        },
    },
    "$ref": "#/$defs/CurrentStatus",
}


def base() -> dict[str, Any]:
    return {
        "functions.json": {
            "lift_pause": function(argument("mentor_id"), argument("reason", "text", default=True))
        },
        "error_codes.json": {
            "forbidden": {"http_status": 403, "description": "no"},
        },
        "transitions.json": [
            {
                "from_status": "paused",
                "to_status": "active",
                "actor_kind": "mentor",
                "certification": "valid",
                "own_pause_only": True,
                "description": "lift",
            }
        ],
        "results.schema.json": {"get_current_status": copy.deepcopy(STATUS_SCHEMA)},
        "webhooks.schema.json": {
            "status_changed": {
                "properties": {"kind": {"const": "status_changed", "type": "string"}},
                "required": ["kind"],
                "type": "object",
            }
        },
        "openapi.json": {},
    }


def only(old: dict[str, Any], new: dict[str, Any]) -> tuple[Kind, str]:
    [difference] = compare(old, new)
    return difference.kind, f"{difference.where}: {difference.what}"


def test_the_same_contract_has_no_difference() -> None:
    assert compare(base(), base()) == []


def test_a_new_function_is_compatible() -> None:
    new = base()
    new["functions.json"]["lift_pause_v2"] = function(argument("mentor_id"))
    assert only(base(), new) == (Kind.COMPATIBLE, "api.lift_pause_v2: new function")


def test_a_removed_function_is_breaking() -> None:
    new = base()
    del new["functions.json"]["lift_pause"]
    assert only(base(), new) == (Kind.BREAKING, "api.lift_pause: function removed (or renamed)")


def test_a_new_argument_with_a_default_is_compatible() -> None:
    new = base()
    new["functions.json"]["lift_pause"]["arguments"].append(
        argument("idempotency_key", default=True)
    )
    kind, text = only(base(), new)
    assert kind is Kind.COMPATIBLE
    assert "new optional argument idempotency_key" in text


def test_a_new_required_argument_is_breaking() -> None:
    new = base()
    new["functions.json"]["lift_pause"]["arguments"].append(argument("organization_id"))
    kind, text = only(base(), new)
    assert kind is Kind.BREAKING
    assert "new required argument organization_id" in text


def test_a_renamed_argument_is_breaking_and_says_which() -> None:
    new = base()
    new["functions.json"]["lift_pause"]["arguments"][1]["name"] = "why"
    differences = compare(base(), new)
    assert [(d.kind, d.what) for d in differences] == [
        (Kind.BREAKING, "argument reason removed (or renamed)"),
        (Kind.COMPATIBLE, "new optional argument why (it has a default)"),
    ]
    assert is_breaking(differences)


def test_a_changed_argument_type_is_breaking() -> None:
    new = base()
    new["functions.json"]["lift_pause"]["arguments"][0]["type"] = "text"
    assert only(base(), new) == (
        Kind.BREAKING,
        "api.lift_pause: argument mentor_id changed type: uuid -> text",
    )


def test_an_argument_losing_its_default_is_breaking() -> None:
    new = base()
    new["functions.json"]["lift_pause"]["arguments"][1]["has_default"] = False
    assert only(base(), new)[0] is Kind.BREAKING


def test_a_changed_return_type_is_breaking() -> None:
    new = base()
    new["functions.json"]["lift_pause"]["returns"] = "boolean"
    assert only(base(), new) == (
        Kind.BREAKING,
        "api.lift_pause: returns changed: jsonb -> boolean",
    )


def test_a_new_error_code_is_compatible() -> None:
    new = base()
    new["error_codes.json"]["conflict"] = {"http_status": 409, "description": "x"}
    assert only(base(), new) == (
        Kind.COMPATIBLE,
        "error code conflict: new error code (HTTP 409)",
    )


def test_a_changed_http_status_for_a_code_is_breaking() -> None:
    new = base()
    new["error_codes.json"]["forbidden"]["http_status"] = 404
    assert only(base(), new) == (
        Kind.BREAKING,
        "error code forbidden: HTTP status changed: 403 -> 404",
    )


def test_a_removed_error_code_is_breaking() -> None:
    new = base()
    del new["error_codes.json"]["forbidden"]
    assert only(base(), new)[0] is Kind.BREAKING


def test_a_removed_transition_is_breaking_and_a_new_one_compatible() -> None:
    new = base()
    new["transitions.json"] = [
        {**base()["transitions.json"][0], "actor_kind": "coordinator", "own_pause_only": False}
    ]
    differences = [(d.kind, d.where, d.what) for d in compare(base(), new)]
    assert differences == [
        (Kind.BREAKING, "transition paused -> active by mentor", "removed"),
        (Kind.COMPATIBLE, "transition paused -> active by coordinator", "new transition"),
    ]


def test_a_stricter_rule_for_a_transition_is_breaking() -> None:
    new = base()
    new["transitions.json"][0]["certification"] = "any"
    assert only(base(), new)[0] is Kind.BREAKING


def test_a_new_result_field_is_compatible() -> None:
    new = base()
    status = new["results.schema.json"]["get_current_status"]["$defs"]["CurrentStatus"]
    status["properties"]["held_back"] = {"items": {"type": "object"}, "type": "array"}
    status["required"].append("held_back")
    assert only(base(), new) == (
        Kind.COMPATIBLE,
        "result of get_current_status.held_back: new field",
    )


def test_a_removed_result_field_is_breaking() -> None:
    new = base()
    status = new["results.schema.json"]["get_current_status"]["$defs"]["CurrentStatus"]
    del status["properties"]["since"]
    status["required"].remove("since")
    assert only(base(), new) == (
        Kind.BREAKING,
        "result of get_current_status.since: field removed (or renamed)",
    )


def test_a_changed_result_field_type_is_breaking() -> None:
    new = base()
    status = new["results.schema.json"]["get_current_status"]["$defs"]["CurrentStatus"]
    status["properties"]["since"] = {"format": "date", "type": "string"}
    kind, text = only(base(), new)
    assert kind is Kind.BREAKING
    assert text.startswith("result of get_current_status.since: type changed")


def test_a_result_field_that_may_now_be_absent_is_breaking() -> None:
    new = base()
    new["results.schema.json"]["get_current_status"]["$defs"]["CurrentStatus"]["required"].remove(
        "since"
    )
    assert only(base(), new)[0] is Kind.BREAKING


def test_an_enum_value_removed_from_a_result_is_breaking() -> None:
    new = base()
    new["results.schema.json"]["get_current_status"]["$defs"]["MentorStatus"]["enum"] = ["active"]
    assert only(base(), new) == (
        Kind.BREAKING,
        "result of get_current_status.status: values removed: paused",
    )


def test_a_removed_webhook_kind_is_breaking() -> None:
    new = base()
    new["webhooks.schema.json"] = {}
    assert only(base(), new) == (Kind.BREAKING, "webhook status_changed: schema removed")


def test_descriptions_are_not_part_of_the_contract() -> None:
    new = base()
    new["error_codes.json"]["forbidden"]["description"] = "reworded"
    new["transitions.json"][0]["description"] = "reworded"
    new["results.schema.json"]["get_current_status"]["$defs"]["CurrentStatus"]["description"] = (
        "reworded"
    )
    assert compare(base(), new) == []


def openapi(body_required: list[str], parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "paths": {
            "/m/{mentorId}/lift": {
                "post": {
                    "parameters": parameters,
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Body"}}
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {
            "schemas": {
                "Body": {
                    "properties": {name: {"type": "string"} for name in ["reason", *body_required]},
                    "required": body_required,
                    "type": "object",
                }
            }
        },
    }


def test_rest_a_new_required_body_field_is_breaking_and_a_new_operation_compatible() -> None:
    old, new = base(), base()
    old["openapi.json"] = openapi([], [])
    new["openapi.json"] = openapi(["note"], [])
    assert only(old, new) == (
        Kind.BREAKING,
        "REST POST /m/{mentorId}/lift body.note: new required field",
    )
    new["openapi.json"] = copy.deepcopy(old["openapi.json"])
    new["openapi.json"]["paths"]["/m/{mentorId}/extend"] = {"post": {"responses": {}}}
    assert only(old, new) == (Kind.COMPATIBLE, "REST POST /m/{mentorId}/extend: new operation")


def test_rest_a_removed_path_parameter_is_breaking() -> None:
    old, new = base(), base()
    parameter = {"in": "path", "name": "mentorId", "required": True, "schema": {"type": "string"}}
    old["openapi.json"] = openapi([], [parameter])
    new["openapi.json"] = openapi([], [])
    assert only(old, new) == (
        Kind.BREAKING,
        "REST POST /m/{mentorId}/lift: path parameter mentorId removed",
    )


def write(directory: Path, contract: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    for name, content in contract.items():
        (directory / name).write_text(json.dumps(content))
    return directory


def test_directories_compare_like_their_files(tmp_path: Path) -> None:
    new = base()
    del new["functions.json"]["lift_pause"]
    old_dir, new_dir = write(tmp_path / "old", base()), write(tmp_path / "new", new)
    assert is_breaking(compare(load(old_dir), load(new_dir)))
    assert compare(load(old_dir), load(old_dir)) == []


@pytest.mark.parametrize(
    ("released", "current", "allowed"),
    [
        ("0.1.0", "0.1.0", False),
        ("0.1.0", "0.1.1", False),
        ("0.1.0", "0.2.0", True),
        ("0.9.3", "1.0.0", True),
        ("1.2.0", "1.3.0", False),
        ("1.2.0", "2.0.0", True),
    ],
)
def test_a_breaking_change_needs_the_minor_before_1_0_and_the_major_after(
    released: str, current: str, allowed: bool
) -> None:
    assert allows_breaking(released, current) is allowed


def test_the_changelog_must_name_the_version() -> None:
    text = "# Changelog\n\n## 0.2.0 (2026-12-01)\n\n- x\n\n## [0.1.0]\n"
    assert changelog_names(text, "0.2.0")
    assert changelog_names(text, "0.1.0")
    assert not changelog_names(text, "0.1.1")
    assert not changelog_names("mentions 0.3.0 in passing", "0.3.0")


def test_a_breaking_contract_ships_only_with_a_version_bump_and_its_changelog_entry(
    tmp_path: Path,
) -> None:
    released = tmp_path / "contract" / "released"
    write(released / "0.1.0", base())
    breaking = base()
    del breaking["functions.json"]["lift_pause"]
    current = write(tmp_path / "current", breaking)
    changelog = "## 0.1.0\n"
    [problem] = release_problems(current, released, "0.1.0", changelog)
    assert "breaking changes since the release 0.1.0" in problem
    assert "api.lift_pause: function removed" in problem
    [problem] = release_problems(current, released, "0.2.0", changelog)
    assert problem == "CHANGELOG.md has no '## 0.2.0' entry"
    assert release_problems(current, released, "0.2.0", changelog + "## 0.2.0\n") == []
    compatible = base()
    compatible["functions.json"]["lift_pause_v2"] = function(argument("mentor_id"))
    assert (
        release_problems(write(tmp_path / "compatible", compatible), released, "0.1.0", changelog)
        == []
    )
