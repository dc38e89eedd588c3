"""The REST API through a real PgBouncer in transaction pooling mode.

Transaction pooling gives each transaction whichever server connection is free: session
state (a plain SET, LISTEN, a server-side prepared statement) does not survive from one
transaction to the next. Each request sets its role and claims with set_config(..., true)
inside its own transaction, and the pool's connections never prepare statements
(psycopg would after 5 runs of a query), so that every request works through PgBouncer.
"""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator

import httpx
import pytest

from pyproj_rpc.rest.app import PREFIX
from pyproj_rpc.rest.settings import CONNECTION_KWARGS
from tests.conftest import Database
from tests.rest_support import PgBouncer, RestServer, auth_headers, serve
from tests.support import Mentor, Organization, World

# Well past psycopg's default prepare_threshold (5) for every query used.
REPEATS = 12


@pytest.fixture(scope="module")
def pgbouncer(database: Database) -> Iterator[PgBouncer]:
    with PgBouncer(database.server, database.name) as bouncer:
        yield bouncer


@pytest.fixture(scope="module")
def server(pgbouncer: PgBouncer) -> Iterator[RestServer]:
    with serve(pgbouncer.url, pool_size=4) as server:
        yield server


@pytest.fixture(scope="module")
def scene(database: Database) -> tuple[Organization, list[Mentor]]:
    with database.connect() as conn:
        org = World(conn).organization()
        mentors = [org.mentor(name=f"Mentor {n}") for n in range(REPEATS)]
        conn.commit()
    return org, mentors


def test_the_pool_never_uses_server_side_prepared_statements(server: RestServer) -> None:
    assert CONNECTION_KWARGS["prepare_threshold"] is None
    assert server.app.state.pool.kwargs["prepare_threshold"] is None


def test_reads_and_writes_repeated_through_pgbouncer_all_succeed(
    server: RestServer, scene: tuple[Organization, list[Mentor]]
) -> None:
    org, mentors = scene
    admin = auth_headers(org.admin)
    with server.client() as client:
        assert client.get("/healthz").status_code == 200
        for mentor in mentors:
            url = f"{PREFIX}/{mentor.id}"
            key = {"Idempotency-Key": str(uuid.uuid4())}
            statuses = [
                client.get(f"{url}/status", headers=admin).status_code,
                client.post(
                    f"{url}/activate", json={"reason": "r"}, headers=admin | key
                ).status_code,
                client.get(f"{PREFIX}/paused", headers=admin).status_code,
                client.post(f"{url}/lift", headers=admin).status_code,
                client.get(f"{url}/history", headers=admin).status_code,
                client.get(f"{PREFIX}/transitions", headers=admin).status_code,
            ]
            assert statuses == [200] * len(statuses)
            history = client.get(f"{url}/history", headers=admin).json()
            assert [e["toStatus"] for e in history["events"]] == ["active", "paused"]


def test_concurrent_callers_through_pgbouncer_each_run_as_themselves(
    server: RestServer, scene: tuple[Organization, list[Mentor]]
) -> None:
    """Claims are transaction-local: no request ever sees another caller's identity."""
    _, mentors = scene

    def caller_kind(client: httpx.Client, mentor: Mentor) -> tuple[str, str]:
        response = client.get(f"{PREFIX}/{mentor.id}/status", headers=auth_headers(mentor.identity))
        assert response.status_code == 200, response.text
        return response.json()["mentorId"], response.json()["callerKind"]

    with server.client() as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda m: caller_kind(client, m), mentors * 3))
    assert answers == [(str(m.id), "mentor") for m in mentors * 3]
