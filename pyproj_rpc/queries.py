"""Named SQL queries, loaded from ``db/queries/*.sql``.

A query starts at a ``-- name: <name>`` line and runs to the next one. Comment lines
right after the name document it; they stay in the SQL, which is harmless.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, LiteralString

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.resources import resource_dir

if TYPE_CHECKING:
    import psycopg

NAME_LINE = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    """Split a file's text into its named queries."""
    parts = NAME_LINE.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ConfigurationError(f"query {name!r} is defined twice")
        queries[name] = body.strip()
    return queries


@functools.cache
def all_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted((resource_dir("db") / "queries").glob("*.sql")):
        for name, sql in parse(path.read_text()).items():
            if name in queries:
                raise ConfigurationError(f"query {name!r} is defined twice ({path.name})")
            queries[name] = sql
    return queries


def query(name: str) -> LiteralString:
    """The SQL of a named query. It comes from our own files, so it is trusted as literal SQL."""
    try:
        return all_queries()[name]
    except KeyError:
        raise ConfigurationError(f"no query named {name!r} in db/queries") from None


@contextmanager
def pinned_search_path(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """A transaction (a savepoint inside one) whose names resolve in pg_catalog first,
    whatever the login's search_path holds (``db/queries/session.sql``)."""
    with conn.transaction():
        conn.execute(query("pin_search_path"))
        yield
