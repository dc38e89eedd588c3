"""``contract/``: what the consumers rely on, as stable, sorted JSON files.

``pyproj-rpc contract dump`` writes it from a throwaway database migrated to head:

- ``functions.json``: every ``api`` function: arguments (name, type, has a default),
  return type, volatility, security;
- ``error_codes.json``: every error code with its HTTP status;
- ``transitions.json``: the state machine's table;
- ``openapi.json``: the REST adapter's OpenAPI document;
- ``results.schema.json``: the JSON Schema of each api function's result, derived from the
  REST adapter's components (generated from :mod:`pyproj_rpc.models`) with the RPC's
  snake_case names;
- ``webhooks.schema.json``: the JSON Schema of each webhook payload kind (the outbox
  payload the relay delivers as ``data``), from :class:`StatusChangedPayload` and
  :class:`PauseOverduePayload`, which the test suite checks against real outbox rows.

:mod:`pyproj_rpc.contract_diff` compares two such directories.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import psycopg
from fastapi.routing import APIRoute
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_snake

from pyproj_rpc import migrations, models
from pyproj_rpc.api_errors import ERRORS_BY_CODE
from pyproj_rpc.contract_diff import FILES
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb import LocalCluster
from pyproj_rpc.queries import query
from pyproj_rpc.rest import JwtConfig, RestSettings, create_app
from pyproj_rpc.rest.app import router
from pyproj_rpc.text import unified_diff

REGENERATE = "pyproj-rpc contract dump"
DEFAULT_DIR = Path("contract")
RELEASED_DIR = "released"
JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
# What an api function returns when no REST route documents it further.
_SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    "bigint": {"type": "integer"},
    "text": {"type": "string"},
    "jsonb": {},
    "void": {"type": "null"},
}


# -- webhook payloads ---------------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MentorRef(_Payload):
    """The mentor a notification is about."""

    id: UUID
    display_name: str
    organization_id: UUID


class Actor(_Payload):
    """Who took the transition (``user_id`` is null for the system)."""

    user_id: UUID | None
    kind: models.ActorKind


class StatusChangedPayload(_Payload):
    """``status_changed``: a mentor's status changed; one per recipient."""

    event_id: int
    kind: Literal["status_changed"]
    sequence: int
    hash: str
    mentor: MentorRef
    recipient_id: UUID
    from_status: models.MentorStatus
    to_status: models.MentorStatus
    reason: str | None
    actor: Actor
    occurred_at: datetime
    expected_return_date: date | None
    forced: bool
    findings: list[models.Finding] | None


class PauseOverduePayload(_Payload):
    """``pause_overdue``: a pause passed its expected return date; once per pause."""

    kind: Literal["pause_overdue"]
    pause_id: UUID
    event_sequence: int
    hash: str
    mentor: MentorRef
    recipient_id: UUID
    start_date: date
    expected_return_date: date
    days_overdue: int
    reason: str | None
    started_by: Actor
    occurred_at: datetime


WEBHOOK_PAYLOADS: dict[str, type[_Payload]] = {
    "status_changed": StatusChangedPayload,
    "pause_overdue": PauseOverduePayload,
}


def webhook_schemas() -> dict[str, Any]:
    """The JSON Schema of each webhook payload kind."""
    return {
        kind: {"$schema": JSON_SCHEMA, **model.model_json_schema()}
        for kind, model in sorted(WEBHOOK_PAYLOADS.items())
    }


# -- the REST adapter and the result schemas ----------------------------------------------


def rest_openapi() -> dict[str, Any]:
    """The REST adapter's OpenAPI document (no server, no database connection)."""
    settings = RestSettings(
        database_url="postgresql:///unused", jwt=JwtConfig(secret="contract-dump-" * 4)
    )
    return create_app(settings).openapi()


def _rest_result_refs() -> dict[str, Any]:
    """The 200 response schema of each REST route named after an api function."""
    document = rest_openapi()
    found: dict[str, Any] = {}
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods or ()):
            operation = document["paths"][route.path_format][method.lower()]
            response = operation["responses"].get("200", {})
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                found[route.name] = schema
    return found


def _snake_case(schema: Any) -> Any:
    """A REST schema with the RPC's names: snake_case properties, ``$defs`` references."""
    if isinstance(schema, list):
        return [_snake_case(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            converted[key] = {to_snake(name): _snake_case(sub) for name, sub in value.items()}
        elif key == "required":
            converted[key] = [to_snake(name) for name in value]
        elif key == "$ref":
            converted[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key in ("title", "additionalProperties"):
            continue  # REST names and strictness; an RPC result may gain fields
        else:
            converted[key] = _snake_case(value)
    return converted


def _references(schema: Any) -> set[str]:
    if isinstance(schema, list):
        return set().union(*(_references(item) for item in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    found = set().union(*(_references(value) for value in schema.values())) if schema else set()
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found.add(ref.rsplit("/", 1)[-1])
    return found


def result_schemas(functions: dict[str, Any], openapi: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of each api function's result."""
    components = openapi.get("components", {}).get("schemas", {})
    rest_results = _rest_result_refs()
    schemas: dict[str, Any] = {}
    for name, function in sorted(functions.items()):
        if name in rest_results:
            root = _snake_case(rest_results[name])
        else:
            root = dict(_SCALAR_SCHEMAS.get(function["returns"], {}))
            if function["returns_set"]:
                root = {"type": "array", "items": root}
        defs: dict[str, Any] = {}
        pending = _references(root)
        while pending:
            ref = pending.pop()
            if ref in defs:
                continue
            defs[ref] = _snake_case(components[ref])
            pending |= _references(defs[ref]) - set(defs)
        schema = {"$schema": JSON_SCHEMA, **root}
        if defs:
            schema["$defs"] = dict(sorted(defs.items()))
        schemas[name] = schema
    return schemas


# -- the database ---------------------------------------------------------------------------


def read_functions(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every api function by name (overloads would be ``name(identity arguments)``)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("contract_functions")).fetchall()
    names = [row["name"] for row in rows]
    functions: dict[str, Any] = {}
    for row in rows:
        key = row["name"]
        if names.count(key) > 1:
            key = f"{key}({row['identity_arguments']})"
        functions[key] = {
            "arguments": row["arguments"],
            "defaults": row["defaults"],
            "returns": row["returns"],
            "returns_set": row["returns_set"],
            "volatility": row["volatility"],
            "security": row["security"],
            "description": row["description"],
        }
    return functions


def read_error_codes(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every error code with its HTTP status; the database and the Python classes agree."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("contract_error_codes")).fetchall()
    codes = {
        row["code"]: {"http_status": row["http_status"], "description": row["description"]}
        for row in rows
    }
    for code, cls in ERRORS_BY_CODE.items():
        recorded = codes.get(code)
        if recorded is None or recorded["http_status"] != cls.http_status:
            raise ConfigurationError(
                f"error code {code!r}: pyproj_rpc.api_errors says HTTP {cls.http_status}, "
                f"mentoring.error_codes says {recorded and recorded['http_status']}"
            )
    return codes


def read_transitions(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [dict(row) for row in cur.execute(query("transition_rules")).fetchall()]


def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The contract of the database ``conn`` is connected to, file name -> content."""
    functions = read_functions(conn)
    openapi = rest_openapi()
    return {
        "error_codes.json": read_error_codes(conn),
        "functions.json": functions,
        "openapi.json": openapi,
        "results.schema.json": result_schemas(functions, openapi),
        "transitions.json": read_transitions(conn),
        "webhooks.schema.json": webhook_schemas(),
    }


def render(contract: dict[str, Any]) -> dict[str, str]:
    """Each file's text: sorted keys, two-space indent, a final newline."""
    return {
        name: json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, content in sorted(contract.items())
    }


def from_url(url: str) -> dict[str, str]:
    """The rendered contract of an already migrated database."""
    with psycopg.connect(url, autocommit=True) as conn:
        return render(build(conn))


def generate() -> dict[str, str]:
    """Migrate a throwaway local database to head and render its contract."""
    with LocalCluster() as cluster:
        url = cluster.info.socket_url()
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.apply_supabase_compat(conn)
        migrations.upgrade(url)
        return from_url(url)


# -- files ----------------------------------------------------------------------------------


def write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def read(directory: Path) -> dict[str, str]:
    """The contract files present in ``directory`` (other files are not ours to compare)."""
    return {name: (directory / name).read_text() for name in FILES if (directory / name).is_file()}


def diff(recorded: dict[str, str], current: dict[str, str], directory: str = "contract") -> str:
    """A unified diff, file by file, from the recorded contract to the current one."""
    return unified_diff(
        {f"{directory}/{name}": text for name, text in recorded.items()},
        {f"{directory}/{name}": text for name, text in current.items()},
        "the migrations",
    )
