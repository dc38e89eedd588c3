"""`pyproj-rpc db export-supabase` files, applied by the real Supabase CLI.

`supabase db push --db-url ... --yes` (npm supabase@2.117.0, package.json; no Docker
needed) applies the exported files to a database holding only the Supabase bootstrap;
the result must be the schema Alembic builds, with Alembic's version table at head, so
that `pyproj-rpc db upgrade` can take over (and the other way round).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pyproj_rpc import migrations, schemafile, supabase_export
from pyproj_rpc.localdb import LocalCluster
from tests.conftest import Database
from tests.integration.test_supabase_lint import SUPABASE, unavailable
from tests.support import cli

HEAD = migrations.head_revision()


@pytest.fixture
def supabase_project(tmp_path: Path) -> Path:
    """A Supabase project directory holding our exported migrations (`db push --db-url`
    needs nothing else: no config.toml, no link)."""
    if not SUPABASE.exists():
        unavailable("the Supabase CLI is not installed: run `npm ci` (CI does)")
    project = tmp_path / "project"
    supabase_export.export(project / "supabase" / "migrations")
    return project


def supabase_db_push(project: Path, database: Database) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(SUPABASE),
            "db",
            "push",
            "--db-url",
            f"{database.tcp_url}?sslmode=disable",
            "--yes",
            "--workdir",
            str(project),
        ],
        # No telemetry, nothing written to the user's home.
        cwd=project,
        env={**os.environ, "HOME": str(project), "SUPABASE_TELEMETRY_DISABLED": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def schema_of(cluster: LocalCluster, database: Database) -> str:
    """The api and mentoring schemas, as db/schema.sql renders them."""
    dump = schemafile.pg_dump(cluster.binaries.tool("pg_dump"), database.url)
    return schemafile.render(dump, revision=HEAD, pg_dump_major=cluster.binaries.major_version)


def db_current(home: Path, database: Database) -> str:
    result = cli(home, "db", "current", "--database-url", database.url)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout.strip()


def test_supabase_db_push_builds_the_alembic_schema_and_leaves_alembic_at_head(
    supabase_project: Path,
    empty_db: Database,
    isolated_db: Database,
    pg_cluster: LocalCluster,
    tmp_path: Path,
) -> None:
    pushed = supabase_db_push(supabase_project, empty_db)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    for revision in supabase_export.revisions():
        assert revision.file_name in pushed.stderr + pushed.stdout

    assert schema_of(pg_cluster, empty_db) == schema_of(pg_cluster, isolated_db)
    assert db_current(tmp_path, empty_db) == f"{HEAD} (head)"
    upgraded = cli(tmp_path, "db", "upgrade", "--database-url", empty_db.url)
    assert upgraded.returncode == 0, upgraded.stderr + upgraded.stdout
    assert f"at revision: {HEAD} (head)" in upgraded.stdout
    assert schema_of(pg_cluster, empty_db) == schema_of(pg_cluster, isolated_db)


def test_alembic_takes_over_a_database_the_supabase_cli_migrated_halfway(
    supabase_project: Path,
    empty_db: Database,
    isolated_db: Database,
    pg_cluster: LocalCluster,
    tmp_path: Path,
) -> None:
    halfway = supabase_export.revisions()[len(supabase_export.revisions()) // 2]
    for path in (supabase_project / "supabase" / "migrations").iterdir():
        if path.name > halfway.file_name:
            path.unlink()
    pushed = supabase_db_push(supabase_project, empty_db)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    assert db_current(tmp_path, empty_db) == halfway.revision

    migrations.upgrade(empty_db.url)
    assert db_current(tmp_path, empty_db) == f"{HEAD} (head)"
    assert schema_of(pg_cluster, empty_db) == schema_of(pg_cluster, isolated_db)


def test_supabase_db_push_refuses_a_revision_alembic_already_applied(
    supabase_project: Path, empty_db: Database, tmp_path: Path
) -> None:
    first = supabase_export.revisions()[0]
    migrations.upgrade(empty_db.url, first.revision)

    pushed = supabase_db_push(supabase_project, empty_db)
    assert pushed.returncode != 0
    message = pushed.stderr + pushed.stdout
    assert (
        f"pyproj-rpc revision {first.revision} needs the database at revision base,"
        f" but pyproj_rpc.alembic_version says {first.revision}"
    ) in message
    assert f"supabase migration repair --status applied {first.timestamp}" in message
    assert db_current(tmp_path, empty_db) == first.revision  # nothing else ran
