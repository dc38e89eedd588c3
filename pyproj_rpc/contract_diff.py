"""``pyproj-rpc contract diff OLD NEW``: each difference between two contracts, classified.

*Compatible*: a consumer written against OLD keeps working against NEW (a new function,
a new optional argument, a new result field, a new error code, a new transition).
*Breaking*: it may not (a removed or renamed function or argument, a changed type, a
removed field, a new required argument, a changed HTTP status for a code, a removed
transition). A rename shows as a removal (breaking) and an addition.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

# The files of a contract directory (``pyproj-rpc contract dump`` writes them).
FILES = (
    "error_codes.json",
    "functions.json",
    "openapi.json",
    "results.schema.json",
    "transitions.json",
    "webhooks.schema.json",
)


class Kind(StrEnum):
    COMPATIBLE = "compatible"
    BREAKING = "breaking"


@dataclass(frozen=True, order=True)
class Difference:
    """One difference: where, what, and whether consumers of OLD may break."""

    where: str
    what: str
    kind: Kind

    def line(self) -> str:
        return f"{self.kind.value:<10}  {self.where}: {self.what}"


def _compatible(where: str, what: str) -> Difference:
    return Difference(where, what, Kind.COMPATIBLE)


def _breaking(where: str, what: str) -> Difference:
    return Difference(where, what, Kind.BREAKING)


def load(directory: Path) -> dict[str, Any]:
    """The contract files of a directory, parsed; a missing file counts as empty."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such contract directory")
    return {
        name: json.loads((directory / name).read_text()) if (directory / name).is_file() else {}
        for name in FILES
    }


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    """Every difference from ``old`` to ``new`` (as :func:`load` returns them), sorted."""
    found = [
        *_functions(old.get("functions.json", {}), new.get("functions.json", {})),
        *_error_codes(old.get("error_codes.json", {}), new.get("error_codes.json", {})),
        *_transitions(old.get("transitions.json", []), new.get("transitions.json", [])),
        *_schema_sets(
            "result of",
            old.get("results.schema.json", {}),
            new.get("results.schema.json", {}),
        ),
        *_schema_sets(
            "webhook",
            old.get("webhooks.schema.json", {}),
            new.get("webhooks.schema.json", {}),
        ),
        *_openapi(old.get("openapi.json", {}), new.get("openapi.json", {})),
    ]
    return sorted(set(found), key=lambda d: (d.kind != Kind.BREAKING, d.where, d.what))


def is_breaking(differences: list[Difference]) -> bool:
    return any(d.kind is Kind.BREAKING for d in differences)


# -- api functions --------------------------------------------------------------------------


def _functions(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Difference]:
    for name in sorted(old.keys() - new.keys()):
        yield _breaking(f"api.{name}", "function removed (or renamed)")
    for name in sorted(new.keys() - old.keys()):
        yield _compatible(f"api.{name}", "new function")
    for name in sorted(old.keys() & new.keys()):
        yield from _function(f"api.{name}", old[name], new[name])


def _function(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Difference]:
    old_args = {arg["name"]: arg for arg in old.get("arguments", [])}
    new_args = {arg["name"]: arg for arg in new.get("arguments", [])}
    for name in sorted(old_args.keys() - new_args.keys()):
        yield _breaking(where, f"argument {name} removed (or renamed)")
    for name in sorted(new_args.keys() - old_args.keys()):
        if new_args[name].get("has_default"):
            yield _compatible(where, f"new optional argument {name} (it has a default)")
        else:
            yield _breaking(where, f"new required argument {name} (no default)")
    for name in sorted(old_args.keys() & new_args.keys()):
        yield from _argument(where, name, old_args[name], new_args[name])
    if old.get("defaults") != new.get("defaults") and old_args.keys() == new_args.keys():
        yield _compatible(
            where, f"defaults changed: {old.get('defaults')} -> {new.get('defaults')}"
        )
    for field in ("returns", "returns_set"):
        if old.get(field) != new.get(field):
            yield _breaking(where, f"{field} changed: {old.get(field)} -> {new.get(field)}")
    for field in ("volatility", "security"):
        if old.get(field) != new.get(field):
            yield _compatible(where, f"{field} changed: {old.get(field)} -> {new.get(field)}")


def _argument(
    where: str, name: str, before: dict[str, Any], after: dict[str, Any]
) -> Iterator[Difference]:
    if before.get("type") != after.get("type"):
        yield _breaking(
            where, f"argument {name} changed type: {before.get('type')} -> {after.get('type')}"
        )
    if before.get("has_default") and not after.get("has_default"):
        yield _breaking(where, f"argument {name} lost its default: callers must now pass it")
    elif after.get("has_default") and not before.get("has_default"):
        yield _compatible(where, f"argument {name} got a default: it may be left out")


# -- error codes and transitions ------------------------------------------------------------


def _error_codes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Difference]:
    for code in sorted(old.keys() - new.keys()):
        yield _breaking(f"error code {code}", "removed")
    for code in sorted(new.keys() - old.keys()):
        yield _compatible(
            f"error code {code}", f"new error code (HTTP {new[code].get('http_status')})"
        )
    for code in sorted(old.keys() & new.keys()):
        before, after = old[code].get("http_status"), new[code].get("http_status")
        if before != after:
            yield _breaking(f"error code {code}", f"HTTP status changed: {before} -> {after}")


def _transition_key(rule: dict[str, Any]) -> str:
    return f"{rule.get('from_status')} -> {rule.get('to_status')} by {rule.get('actor_kind')}"


def _transitions(old: list[Any], new: list[Any]) -> Iterator[Difference]:
    before = {_transition_key(rule): rule for rule in old}
    after = {_transition_key(rule): rule for rule in new}
    for key in sorted(before.keys() - after.keys()):
        yield _breaking(f"transition {key}", "removed")
    for key in sorted(after.keys() - before.keys()):
        yield _compatible(f"transition {key}", "new transition")
    for key in sorted(before.keys() & after.keys()):
        for field in ("certification", "own_pause_only"):
            if before[key].get(field) != after[key].get(field):
                yield _breaking(
                    f"transition {key}",
                    f"{field} changed: {before[key].get(field)} -> {after[key].get(field)}",
                )


# -- JSON Schemas ---------------------------------------------------------------------------

_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "$schema", "$defs"})


def _shape(schema: Any) -> Any:
    """What a schema says about values, without its annotations (a comparable JSON text)."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in sorted(schema.items()) if k not in _ANNOTATIONS}
    if isinstance(schema, list):
        return [_shape(item) for item in schema]
    return schema


def _text(schema: Any) -> str:
    return json.dumps(_shape(schema), sort_keys=True)


@dataclass(frozen=True)
class _Side:
    """A schema with the definitions its references point into."""

    defs: dict[str, Any]

    def resolve(self, schema: Any) -> Any:
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen or name not in self.defs:
                break
            seen.add(name)
            schema = self.defs[name]
        return schema

    def inlined(self, schema: Any, depth: int = 0) -> Any:
        """The schema with its references replaced by what they point to (a few levels)."""
        if depth > 8:
            return schema
        schema = self.resolve(schema)
        if isinstance(schema, dict):
            return {k: self.inlined(v, depth + 1) for k, v in schema.items()}
        if isinstance(schema, list):
            return [self.inlined(item, depth + 1) for item in schema]
        return schema

    def text(self, schema: Any) -> str:
        return _text(self.inlined(schema))


def _compare_schema(
    where: str,
    old: Any,
    new: Any,
    sides: tuple[_Side, _Side],
    *,
    is_input: bool = False,
    depth: int = 0,
) -> Iterator[Difference]:
    old_side, new_side = sides
    old, new = old_side.resolve(old), new_side.resolve(new)
    if depth > 20 or old_side.text(old) == new_side.text(new):
        return
    if not isinstance(old, dict) or not isinstance(new, dict):
        yield _breaking(where, f"changed: {_text(old)} -> {_text(new)}")
        return
    old_props, new_props = old.get("properties"), new.get("properties")
    if isinstance(old_props, dict) and isinstance(new_props, dict):
        yield from _compare_object(where, old, new, sides, is_input=is_input, depth=depth)
        return
    old_items, new_items = old.get("items"), new.get("items")
    if old.get("type") == new.get("type") == "array" and old_items and new_items:
        yield from _compare_schema(
            f"{where}[]", old_items, new_items, sides, is_input=is_input, depth=depth + 1
        )
        return
    old_variants, new_variants = old.get("anyOf"), new.get("anyOf")
    if (
        isinstance(old_variants, list)
        and isinstance(new_variants, list)
        and len(old_variants) == len(new_variants)
    ):
        for a, b in zip(old_variants, new_variants, strict=True):
            yield from _compare_schema(where, a, b, sides, is_input=is_input, depth=depth + 1)
        return
    if "enum" in old and "enum" in new:
        removed = [v for v in old["enum"] if v not in new["enum"]]
        added = [v for v in new["enum"] if v not in old["enum"]]
        if removed:
            yield _breaking(where, f"values removed: {', '.join(map(str, removed))}")
        if added:
            yield _compatible(where, f"new values: {', '.join(map(str, added))}")
        return
    yield _breaking(where, f"type changed: {_text(old)} -> {_text(new)}")


def _compare_object(
    where: str,
    old: dict[str, Any],
    new: dict[str, Any],
    sides: tuple[_Side, _Side],
    *,
    is_input: bool,
    depth: int,
) -> Iterator[Difference]:
    old_props, new_props = old["properties"], new["properties"]
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_props.keys() - new_props.keys()):
        yield _breaking(f"{where}.{name}", "field removed (or renamed)")
    for name in sorted(new_props.keys() - old_props.keys()):
        if is_input and name in new_required:
            yield _breaking(f"{where}.{name}", "new required field")
        else:
            yield _compatible(f"{where}.{name}", "new field")
    for name in sorted(old_props.keys() & new_props.keys()):
        if (name in old_required) != (name in new_required):
            now = "required" if name in new_required else "optional (may be absent)"
            yield _breaking(f"{where}.{name}", f"now {now}")
        yield from _compare_schema(
            f"{where}.{name}",
            old_props[name],
            new_props[name],
            sides,
            is_input=is_input,
            depth=depth + 1,
        )


def _schema_sets(label: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Difference]:
    for name in sorted(old.keys() - new.keys()):
        yield _breaking(f"{label} {name}", "schema removed")
    for name in sorted(new.keys() - old.keys()):
        yield _compatible(f"{label} {name}", "new schema")
    for name in sorted(old.keys() & new.keys()):
        sides = (_Side(old[name].get("$defs", {})), _Side(new[name].get("$defs", {})))
        yield from _compare_schema(f"{label} {name}", old[name], new[name], sides)


# -- the REST adapter's OpenAPI document ----------------------------------------------------


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
    }


def _openapi(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Difference]:
    sides = (
        _Side(old.get("components", {}).get("schemas", {})),
        _Side(new.get("components", {}).get("schemas", {})),
    )
    before, after = _operations(old), _operations(new)
    for key in sorted(before.keys() - after.keys()):
        yield _breaking(f"REST {key}", "operation removed")
    for key in sorted(after.keys() - before.keys()):
        yield _compatible(f"REST {key}", "new operation")
    for key in sorted(before.keys() & after.keys()):
        yield from _operation(f"REST {key}", before[key], after[key], sides)


def _operation(
    where: str, old: dict[str, Any], new: dict[str, Any], sides: tuple[_Side, _Side]
) -> Iterator[Difference]:
    yield from _parameters(where, old, new, sides)
    yield from _bodies(where, old, new, sides)
    old_responses, new_responses = old.get("responses", {}), new.get("responses", {})
    for status in sorted(old_responses.keys() - new_responses.keys()):
        yield _breaking(where, f"response {status} removed")
    for status in sorted(new_responses.keys() - old_responses.keys()):
        yield _compatible(where, f"new response {status}")
    for status in sorted(old_responses.keys() & new_responses.keys()):
        before = _json_schema(old_responses[status])
        after = _json_schema(new_responses[status])
        if before is not None and after is not None:
            yield from _compare_schema(f"{where} {status}", before, after, sides)


def _parameters(
    where: str, old: dict[str, Any], new: dict[str, Any], sides: tuple[_Side, _Side]
) -> Iterator[Difference]:
    old_params = {(p["in"], p["name"]): p for p in old.get("parameters", [])}
    new_params = {(p["in"], p["name"]): p for p in new.get("parameters", [])}
    for place, name in sorted(old_params.keys() - new_params.keys()):
        yield _breaking(where, f"{place} parameter {name} removed")
    for place, name in sorted(new_params.keys() - old_params.keys()):
        if new_params[(place, name)].get("required"):
            yield _breaking(where, f"new required {place} parameter {name}")
        else:
            yield _compatible(where, f"new optional {place} parameter {name}")
    for key in sorted(old_params.keys() & new_params.keys()):
        if bool(old_params[key].get("required")) != bool(new_params[key].get("required")):
            yield _breaking(where, f"{key[0]} parameter {key[1]} required changed")
        yield from _compare_schema(
            f"{where} {key[0]} parameter {key[1]}",
            old_params[key].get("schema", {}),
            new_params[key].get("schema", {}),
            sides,
            is_input=True,
        )


def _bodies(
    where: str, old: dict[str, Any], new: dict[str, Any], sides: tuple[_Side, _Side]
) -> Iterator[Difference]:
    old_body = _json_schema(old.get("requestBody", {}))
    new_body = _json_schema(new.get("requestBody", {}))
    if old_body is not None and new_body is None:
        yield _breaking(where, "request body removed")
    elif old_body is None and new_body is not None:
        if new.get("requestBody", {}).get("required"):
            yield _breaking(where, "new required request body")
        else:
            yield _compatible(where, "new optional request body")
    elif old_body is not None and new_body is not None:
        yield from _compare_schema(f"{where} body", old_body, new_body, sides, is_input=True)


def _json_schema(container: dict[str, Any]) -> Any:
    return container.get("content", {}).get("application/json", {}).get("schema")


# -- the release policy ---------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...]:
    """``0.1.0`` -> ``(0, 1, 0)``."""
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        raise ValueError(f"{text!r} is not a version like 0.1.0") from None


def allows_breaking(released: str, current: str) -> bool:
    """Whether going from ``released`` to ``current`` may break consumers: a new major
    version, or before 1.0 a new minor version (semantic versioning)."""
    before, after = parse_version(released), parse_version(current)
    if after[0] == 0 and before[0] == 0:
        return after[:2] > before[:2]
    return after[0] > before[0]


def latest_release(released_dir: Path) -> str | None:
    """The highest version kept under ``contract/released/``."""
    versions = (
        [
            child.name
            for child in released_dir.iterdir()
            if child.is_dir() and (child / "functions.json").is_file()
        ]
        if released_dir.is_dir()
        else []
    )
    return max(versions, key=parse_version) if versions else None


def changelog_names(changelog: str, version: str) -> bool:
    """Whether CHANGELOG.md has a ``## <version>`` (or ``## [<version>]``) heading."""
    for line in changelog.splitlines():
        heading = line.removeprefix("## ").strip()
        if line.startswith("## ") and heading.lstrip("[").split("]")[0].split()[0] == version:
            return True
    return False


def release_problems(
    contract_dir: Path, released_dir: Path, version: str, changelog: str
) -> list[str]:
    """Why the current contract may not ship as ``version`` (empty: it may).

    A breaking difference from the last released contract needs a version that allows it
    and a CHANGELOG.md entry for that version; every version needs its entry."""
    problems: list[str] = []
    if not changelog_names(changelog, version):
        problems.append(f"CHANGELOG.md has no '## {version}' entry")
    released = latest_release(released_dir)
    if released is None:
        return [*problems, f"no released contract under {released_dir}"]
    differences = compare(load(released_dir / released), load(contract_dir))
    breaking = [d for d in differences if d.kind is Kind.BREAKING]
    if breaking and not allows_breaking(released, version):
        problems.append(
            f"breaking changes since the release {released}, but the version is {version}: "
            "keep the old function beside a new one (fn_v2), or bump the version (the minor "
            "before 1.0, the major after) with a CHANGELOG.md entry:\n"
            + "\n".join(d.line() for d in breaking)
        )
    return problems
