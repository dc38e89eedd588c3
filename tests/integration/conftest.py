"""Fixtures shared by the REST and relay test modules.

REST modules get one committed database, one server and one client per module;
a module overrides ``server`` when it needs another configuration. Relay tests get a
webhook receiver, a relay launcher and a signing secret per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from pyproj_rpc.relay import WebhookSecret
from tests.conftest import Database
from tests.relay_support import Receiver, Relays, relays_in
from tests.rest_support import RestServer, clone_database, serve
from tests.support import Organization, World


@pytest.fixture(scope="module")
def database(template_db: Database, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A committed copy of the template for the whole module."""
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with clone_database(template_db, label) as database:
        yield database


@pytest.fixture
def conn(database: Database) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the module's database, as its owner (commit what you build)."""
    with database.connect() as conn:
        yield conn


@pytest.fixture
def org(conn: psycopg.Connection[Any]) -> Organization:
    """A committed organization in the module's database."""
    org = World(conn).organization()
    conn.commit()
    return org


@pytest.fixture(scope="module")
def server(database: Database) -> Iterator[RestServer]:
    """The REST API on a loopback port, over the module's database."""
    with serve(database.url) as server:
        yield server


@pytest.fixture(scope="module")
def client(server: RestServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver that records webhook deliveries."""
    with Receiver() as server:
        yield server


@pytest.fixture
def relays(tmp_path: Path) -> Iterator[Relays]:
    """Starts relay subprocesses, and kills whatever is left at the end."""
    with relays_in(tmp_path) as started:
        yield started


@pytest.fixture
def secret() -> str:
    return str(WebhookSecret.generate())
