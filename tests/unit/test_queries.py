"""Named queries are loaded from db/queries."""

from __future__ import annotations

import re

import pytest

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import all_queries, parse, query


def test_a_file_splits_into_its_named_queries() -> None:
    text = "-- header\n-- name: first\nselect 1;\n\n-- name: second\n-- doc\nselect 2;\n"
    assert parse(text) == {"first": "select 1;", "second": "-- doc\nselect 2;"}


def test_a_name_defined_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="twice"):
        parse("-- name: a\nselect 1;\n-- name: a\nselect 2;\n")


def test_an_unknown_query_name_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="no query named 'nope'"):
        query("nope")


def test_the_shipped_queries_load() -> None:
    assert "set_config('role'" in query("set_request_context")


# SQL's own syntax that looks like a call; everything else names a function.
NOT_FUNCTIONS = frozenset(
    [
        "all",
        "and",
        "any",
        "array",
        "as",
        "case",
        "cast",
        "check",
        "coalesce",
        "conflict",
        "do",
        "else",
        "exists",
        "explain",
        "extract",
        "filter",
        "from",
        "greatest",
        "if",
        "in",
        "insert",
        "into",
        "join",
        "lateral",
        "least",
        "materialized",
        "not",
        "nullif",
        "on",
        "or",
        "over",
        "returning",
        "row",
        "select",
        "set",
        "then",
        "using",
        "values",
        "when",
        "where",
        "with",
    ]
)
CALL = re.compile(r"(?<![.\w\"$])(?<!\bas )([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)


CTE_COLUMNS = re.compile(r"\s*as\s*(materialized\s*)?\(", re.IGNORECASE)


def closing_paren(code: str, opening: int) -> int:
    depth = 0
    for at in range(opening, len(code)):
        depth += {"(": 1, ")": -1}.get(code[at], 0)
        if depth == 0:
            return at
    return len(code)


def unqualified_calls(sql: str) -> list[str]:
    code = re.sub(r"--[^\n]*", "", sql)
    code = re.sub(r"'(?:[^']|'')*'", "''", code)
    return [
        m.group(1)
        for m in CALL.finditer(code)
        if m.group(1).lower() not in NOT_FUNCTIONS
        # a CTE's column list: with name (a, b) as (...)
        and not CTE_COLUMNS.match(code, closing_paren(code, m.end() - 1) + 1)
    ]


def test_the_scan_finds_an_unqualified_call_and_passes_a_qualified_one() -> None:
    sql = (
        "with x (a, b) as (select lower(r) as x(a), pg_catalog.upper(r), coalesce(1)"
        " -- now()\nfrom t as t(a)) select 1"
    )
    assert unqualified_calls(sql) == ["lower"]


def test_every_function_a_query_calls_is_schema_qualified() -> None:
    # Queries run as the owner, a superuser or a service login with the login's own
    # search_path: an unqualified lower(daterange) resolves to a public.lower(daterange)
    # that any role with CREATE on public (authenticated, on Supabase) may plant.
    found = {
        name: calls for name, sql in all_queries().items() if (calls := unqualified_calls(sql))
    }
    assert found == {}
