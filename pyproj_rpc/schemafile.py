"""``db/schema.sql``: the schema the migrations produce, in one readable file.

The file is ``pg_dump --schema-only`` of our schemas in a database migrated to head,
stripped of what changes between runs and machines (the server's version, session SET
lines, pg_dump's random ``\\restrict`` key). ``pyproj-rpc db schema`` writes it;
``--check`` and the test suite fail when the migrations and the file disagree.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg

from pyproj_rpc import migrations
from pyproj_rpc.errors import MigrationError
from pyproj_rpc.localdb import LocalCluster
from pyproj_rpc.resources import resource_dir
from pyproj_rpc.text import unified_diff

SCHEMAS = ("api", "mentoring")
REGENERATE = "pyproj-rpc db schema"
_HEADER_MAJOR = re.compile(r"^-- as printed by pg_dump (\d+)", re.MULTILINE)
_DROPPED_LINES = re.compile(
    r"^(SET |SELECT pg_catalog\.set_config\('search_path'|\\(un)?restrict |"
    r"-- Dumped (from|by) |-- PostgreSQL database dump)"
)


def schema_file() -> Path:
    """Where ``db/schema.sql`` lives (the source tree, or this installation's copy)."""
    return resource_dir("db") / "schema.sql"


def pg_dump(tool: Path, url: str) -> str:
    """``pg_dump --schema-only`` of our schemas, as pg_dump prints it."""
    schemas = [f"--schema={name}" for name in SCHEMAS]
    result = subprocess.run(
        [str(tool), "--schema-only", *schemas, url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MigrationError(f"pg_dump failed: {result.stderr.strip()}")
    return result.stdout


def render(dump: str, *, revision: str, pg_dump_major: int) -> str:
    """The file's text: a header, then the dump without what varies between runs."""
    kept = [line.rstrip() for line in dump.splitlines() if not _DROPPED_LINES.match(line)]
    body = re.sub(r"^--\n--$", "", "\n".join(kept), flags=re.MULTILINE)  # emptied frames
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n")
    header = (
        f"-- The schemas {' and '.join(SCHEMAS)} at revision {revision}, "
        "as the migrations build them:\n"
        "-- every table, function, trigger, policy and grant, in one place.\n"
        f"-- Generated, do not edit: `{REGENERATE}` writes it from a fresh database "
        "migrated to head,\n"
        f"-- as printed by pg_dump {pg_dump_major}; the test suite fails when it is stale.\n"
    )
    return f"{header}\n{body}\n"


def recorded_pg_dump_major(text: str) -> int | None:
    """The pg_dump major version a schema file was written with, from its header."""
    match = _HEADER_MAJOR.search(text)
    return int(match.group(1)) if match else None


@contextlib.contextmanager
def migrated_throwaway_database() -> Iterator[tuple[LocalCluster, str]]:
    """A local cluster started here, its database migrated to head, removed on exit."""
    with LocalCluster() as cluster:
        url = cluster.info.socket_url()
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.apply_supabase_compat(conn)
        migrations.upgrade(url)
        yield cluster, url


def generate() -> str:
    """Migrate a throwaway local database to head and render its schema."""
    with migrated_throwaway_database() as (cluster, url):
        return render(
            pg_dump(cluster.binaries.tool("pg_dump"), url),
            revision=migrations.head_revision(),
            pg_dump_major=cluster.binaries.major_version,
        )


def diff(recorded: str, current: str, path: str = "db/schema.sql") -> str:
    """A unified diff from the recorded file to what the migrations build now."""
    return unified_diff({path: recorded}, {path: current}, "the migrations")
