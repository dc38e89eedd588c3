"""``contract/database.types.ts``: the api schema as supabase-js types.

The text has the shape ``supabase gen types typescript`` prints (that generator needs
Docker here): a ``Json`` type and a ``Database`` type whose ``api`` schema lists every
function PostgREST exposes, with its ``Args`` (optional when the argument has a default)
and ``Returns``, plus the enums and composite types the signatures use. Passed to
``createClient<Database>``, it makes ``supabase.schema('api').rpc(...)`` type-checked.
The mapping of PostgreSQL types follows postgres-meta's ``pgTypeToTsType``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import query
from pyproj_rpc.text import unified_diff

SCHEMA = "api"
REGENERATE = "pyproj-rpc contract typescript"
INPUT_MODES = frozenset("ibv")  # in, inout, variadic: what a caller passes

_STRING = (
    "bytea bpchar varchar date text citext time timetz timestamp timestamptz uuid vector interval"
)
_BUILTIN = {
    "bool": "boolean",
    **dict.fromkeys(["int2", "int4", "int8", "float4", "float8", "numeric"], "number"),
    **dict.fromkeys(_STRING.split(), "string"),
    "json": "Json",
    "jsonb": "Json",
    "void": "undefined",
    "record": "Record<string, unknown>",
}
_JSON_TYPE = (
    "export type Json =\n"
    "  | string\n"
    "  | number\n"
    "  | boolean\n"
    "  | null\n"
    "  | { [key: string]: Json | undefined }\n"
    "  | Json[]\n"
)
_NONE = "[_ in never]: never"


@dataclass(frozen=True)
class PgType:
    oid: int
    schema: str
    name: str
    kind: str  # pg_type.typtype: b base, e enum, c composite, d domain, p pseudo, ...
    element: int  # the element type of an array, else 0
    base: int  # the base type of a domain, else 0
    labels: tuple[str, ...]
    attributes: tuple[tuple[str, int], ...]


class Catalog:
    """The types the signatures mention, fetched once each, and those they mention."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._types: dict[int, PgType] = {}
        self.enums: dict[str, PgType] = {}  # the ones a signature uses, by name
        self.composites: dict[str, PgType] = {}

    def load(self, oids: set[int]) -> None:
        missing = sorted(oids - self._types.keys() - {0})
        while missing:
            with self._conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(query("typescript_types"), {"oids": missing}).fetchall()
            for row in rows:
                self._types[row["oid"]] = PgType(
                    oid=row["oid"],
                    schema=row["schema"],
                    name=row["name"],
                    kind=row["kind"],
                    element=row["element"],
                    base=row["base"],
                    labels=tuple(row["labels"]),
                    attributes=tuple((a["name"], a["type"]) for a in row["attributes"]),
                )
            mentioned = {oid for row in rows for oid in (row["element"], row["base"])}
            mentioned |= {a["type"] for row in rows for a in row["attributes"]}
            missing = sorted(mentioned - self._types.keys() - {0})

    def ts_type(self, oid: int) -> str:
        """The TypeScript type of a value of this PostgreSQL type, as PostgREST sends it."""
        pg = self._types.get(oid)
        if pg is None:
            return "unknown"
        if pg.kind == "d":
            return self.ts_type(pg.base)
        if pg.element and pg.name.startswith("_"):
            element = self.ts_type(pg.element)
            return f"({element})[]" if " " in element else f"{element}[]"
        if pg.schema == "pg_catalog":
            return _builtin(pg.name)
        if pg.kind in ("e", "c"):
            registry, section = (
                (self.enums, "Enums") if pg.kind == "e" else (self.composites, "CompositeTypes")
            )
            return f'Database[{json.dumps(SCHEMA)}]["{section}"][{self._named(registry, pg)}]'
        return "unknown"

    def _named(self, registry: dict[str, PgType], pg: PgType) -> str:
        known = registry.setdefault(pg.name, pg)
        if known.oid != pg.oid:
            raise ConfigurationError(
                f"two types named {pg.name} ({known.schema}.{known.name}, "
                f"{pg.schema}.{pg.name}) appear in api signatures: rename one"
            )
        return json.dumps(pg.name)


def _builtin(name: str) -> str:
    return _BUILTIN.get(name, "unknown")


def _object(fields: list[str], indent: str) -> str:
    """An object type, one field a line, or the empty mapped type supabase prints."""
    if not fields:
        return f"{{\n{indent}  {_NONE}\n{indent}}}"
    lines = "".join(f"{indent}  {field}\n" for field in fields)
    return f"{{\n{lines}{indent}}}"


def _key(name: str) -> str:
    """A property name, quoted only when it is not a plain identifier."""
    return name if name.isidentifier() and name.isascii() else json.dumps(name)


def _signature(fn: dict[str, Any], catalog: Catalog, indent: str) -> str:
    args: list[dict[str, Any]] = fn["args"]
    inputs = [arg for arg in args if arg["mode"] in INPUT_MODES]
    first_default = len(inputs) - fn["input_defaults"]
    fields = []
    for position, arg in enumerate(inputs):
        optional = "?" if position >= first_default else ""
        fields.append(
            (arg["name"], f"{_key(arg['name'])}{optional}: {catalog.ts_type(arg['type'])}")
        )
    args_type = _object([f for _, f in sorted(fields)], indent + "  ") if inputs else "never"
    columns = [arg for arg in args if arg["mode"] == "t"]
    if columns:
        returned = _object(
            [f"{_key(c['name'])}: {catalog.ts_type(c['type'])}" for c in columns], indent + "  "
        )
    else:
        returned = catalog.ts_type(fn["return_type"])
    if fn["returns_set"]:
        returned = f"{returned}[]"
    return f"{{\n{indent}  Args: {args_type}\n{indent}  Returns: {returned}\n{indent}}}"


def generate(conn: psycopg.Connection[Any]) -> str:
    """The ``.ts`` text for the api schema of the database ``conn`` is connected to."""
    relations = [row[0] for row in conn.execute(query("typescript_api_relations"))]
    if relations:
        raise ConfigurationError(
            f"the api schema has tables or views ({', '.join(relations)}): "
            "the TypeScript generator covers functions, enums and composite types only"
        )
    with conn.cursor(row_factory=dict_row) as cur:
        functions = cur.execute(query("typescript_api_functions")).fetchall()
    catalog = Catalog(conn)
    declared = [row[0] for row in conn.execute(query("typescript_api_types"))]
    catalog.load(
        {fn["return_type"] for fn in functions}
        | {arg["type"] for fn in functions for arg in fn["args"]}
        | set(declared)
    )
    for oid in declared:  # the api schema's own enums and composites, used or not
        catalog.ts_type(oid)

    by_name: dict[str, list[dict[str, Any]]] = {}
    for fn in functions:  # overloads become a union, in signature order
        by_name.setdefault(fn["name"], []).append(fn)
    function_fields = [
        f"{_key(name)}:\n"
        + "\n".join(f"        | {_signature(fn, catalog, ' ' * 8)}" for fn in fns)
        if len(fns) > 1
        else f"{_key(name)}: {_signature(fns[0], catalog, ' ' * 6)}"
        for name, fns in sorted(by_name.items())
    ]
    composite_fields = []
    # Resolving an attribute can register more composites or enums: walk until stable.
    done: set[str] = set()
    while pending := sorted(catalog.composites.keys() - done):
        for name in pending:
            done.add(name)
            attributes = [
                f"{_key(attr)}: {_nullable(catalog.ts_type(oid))}"
                for attr, oid in catalog.composites[name].attributes
            ]
            composite_fields.append((name, f"{_key(name)}: {_object(attributes, ' ' * 6)}"))
    enum_fields = [
        f"{_key(name)}: {' | '.join(json.dumps(label) for label in pg.labels)}"
        for name, pg in sorted(catalog.enums.items())
    ]
    constants = [
        f"      {_key(name)}: [{', '.join(json.dumps(label) for label in pg.labels)}],\n"
        for name, pg in sorted(catalog.enums.items())
    ]
    schema = "\n".join(
        [
            f"    Tables: {_object([], ' ' * 4)}",
            f"    Views: {_object([], ' ' * 4)}",
            f"    Functions: {_object(function_fields, ' ' * 4)}",
            f"    Enums: {_object(enum_fields, ' ' * 4)}",
            f"    CompositeTypes: {_object([f for _, f in sorted(composite_fields)], ' ' * 4)}",
        ]
    )
    return (
        "// The api schema as supabase-js types, in the shape `supabase gen types typescript`\n"
        f"// prints. Generated, do not edit: `{REGENERATE}` writes it from a database\n"
        "// migrated to head; the test suite fails when it is stale.\n"
        "\n"
        f"{_JSON_TYPE}\n"
        "export type Database = {\n"
        f"  {SCHEMA}: {{\n{schema}\n  }}\n"
        "}\n"
        "\n"
        "export const Constants = {\n"
        f"  {SCHEMA}: {{\n"
        + (f"    Enums: {{\n{''.join(constants)}    }},\n" if constants else "    Enums: {},\n")
        + "  },\n"
        "} as const\n"
    )


def _nullable(ts_type: str) -> str:
    return ts_type if ts_type in ("unknown", "any") else f"{ts_type} | null"


def diff(recorded: str, current: str, path: str) -> str:
    """A unified diff from the recorded file to what the database gives now."""
    return unified_diff({path: recorded}, {path: current}, "the database")
