"""The test harness: one PostgreSQL server per session, a template migrated once.

Isolation per test, cheapest first:

- ``db``: a connection to a shared database, inside a transaction rolled back at the end.
  For tests that need no commit. Use ``postgrest_request(db, identity)`` to act as a user.
- ``isolated_db``: a fresh copy of the template, dropped at the end. For tests that
  commit, use several connections, or LISTEN/NOTIFY.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

from pyproj_rpc import migrations
from pyproj_rpc.localdb import ConnectionInfo, LocalCluster
from tests.support import World

TEMPLATE_DB = "pyproj_template"
SHARED_DB = "pyproj_shared"
_clone_numbers = itertools.count()


@dataclass(frozen=True)
class Database:
    """A database of the test server."""

    server: ConnectionInfo
    name: str

    @property
    def url(self) -> str:
        return self.server.socket_url(self.name)

    @property
    def tcp_url(self) -> str:
        return self.server.url(self.name)

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, **kwargs)


def janitor(server: ConnectionInfo, dbname: str, **kwargs: Any) -> DatabaseJanitor:
    return DatabaseJanitor(
        user=server.user,
        host=server.socket_dir,
        port=server.port,
        password=server.password,
        dbname=dbname,
        **kwargs,
    )


def migrate_to_head(*, host: str, port: int, user: str, dbname: str, **_: Any) -> None:
    """pytest-postgresql loader: the Supabase bootstrap, then every migration."""
    server_url = f"postgresql://{user}@/{dbname}?host={host}&port={port}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        migrations.apply_supabase_compat(conn)
    migrations.upgrade(server_url)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    """The session's PostgreSQL server, run as an unprivileged user when we are root."""
    with LocalCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_server(pg_cluster: LocalCluster) -> ConnectionInfo:
    return pg_cluster.info


@pytest.fixture(scope="session")
def template_db(pg_server: ConnectionInfo) -> Iterator[Database]:
    """A database migrated to head, used only as a template for the others."""
    template = janitor(pg_server, TEMPLATE_DB, as_template=True)
    template.init()
    template.load(migrate_to_head)
    yield Database(pg_server, TEMPLATE_DB)
    template.drop()


@pytest.fixture(scope="session")
def shared_db(template_db: Database) -> Iterator[Database]:
    """One copy of the template for every rolled-back test."""
    shared = janitor(template_db.server, SHARED_DB, template_dbname=template_db.name)
    shared.init()
    yield Database(template_db.server, SHARED_DB)
    shared.drop()


@pytest.fixture
def db(shared_db: Database) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose whole test runs in one transaction, rolled back at the end."""
    conn = shared_db.connect()
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def empty_db(pg_server: ConnectionInfo) -> Iterator[Database]:
    """A new database with only the Supabase bootstrap applied: no migration yet."""
    name = f"pyproj_empty_{next(_clone_numbers)}"
    empty = janitor(pg_server, name)
    empty.init()
    database = Database(pg_server, name)
    with database.connect(autocommit=True) as conn:
        migrations.apply_supabase_compat(conn)
    try:
        yield database
    finally:
        empty.drop()


@pytest.fixture
def isolated_db(template_db: Database) -> Iterator[Database]:
    """A fresh database cloned from the template, for tests that commit."""
    name = f"pyproj_test_{next(_clone_numbers)}"
    clone = janitor(template_db.server, name, template_dbname=template_db.name)
    clone.init()
    try:
        yield Database(template_db.server, name)
    finally:
        clone.drop()


@pytest.fixture
def world(db: psycopg.Connection[Any]) -> World:
    """Test data builders on the rolled-back connection."""
    return World(db)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir the server user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="pyproj-rpc-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
