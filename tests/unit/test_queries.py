"""Named queries are loaded from db/queries."""

from __future__ import annotations

import pytest

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.queries import parse, query


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
