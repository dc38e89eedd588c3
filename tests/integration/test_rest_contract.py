"""The REST contract: same results as the RPC, camelCase JSON, PostgREST's errors.

The REST result of a call equals the RPC's result for the same call (the RPC is the one
source of truth); malformed requests get 400 before the database is touched; failures
never show SQL; an exhausted pool answers 503 at once; /healthz checks the database.
"""

from __future__ import annotations

import concurrent.futures
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from pyproj_rpc import models
from pyproj_rpc.identity import Identity
from pyproj_rpc.localdb.cluster import free_port
from pyproj_rpc.rest.app import PREFIX
from tests.conftest import Database
from tests.rest_support import (
    RestServer,
    auth_headers,
    camel_keys,
    key_paths,
    serve,
    snake_keys,
    token_for,
)
from tests.support import Mentor, Organization, World, call, eventually

DEADLINE_SECONDS = 30


def new_mentor(org: Organization, coordinator: Identity, **kwargs: Any) -> Mentor:
    mentor = org.mentor(coordinators=(coordinator,), **kwargs)
    org.world.conn.commit()
    return mentor


def rpc_result(conn: psycopg.Connection[Any], identity: Identity, fn: str, **kwargs: Any) -> Any:
    result = call(conn, identity, fn, **kwargs)
    conn.commit()
    return result


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_same_result(rest: Any, rpc_json: Any, parse: Callable[[Any], Any]) -> None:
    """Same fields (camelCase), same values once read as the Python client reads them."""
    assert key_paths(rest) == key_paths(camel_keys(rpc_json))
    assert parse(snake_keys(rest)) == parse(rpc_json)


# -- one source of truth ----------------------------------------------------------------

WRITES = {
    "activate_pause": ("/activate", {"reason": "Family leave"}),
    "lift_pause": ("/lift", {"reason": "back"}),
    "reactivate_mentor": ("/reactivate", {"reason": "recertified"}),
}


@pytest.mark.parametrize("function", sorted(WRITES))
def test_a_write_returns_what_the_rpc_returns_for_the_same_call(
    client: httpx.Client,
    conn: psycopg.Connection[Any],
    org: Organization,
    function: str,
) -> None:
    coordinator = org.coordinator()
    status = {"activate_pause": "active", "lift_pause": "paused"}.get(function, "expired_cert")
    mentor = new_mentor(org, coordinator, status=status)
    if function == "reactivate_mentor":
        today = org.world.today(org.id)
        org.world.certify(mentor, today, today + timedelta(days=365))
        conn.commit()
    path, body = WRITES[function]
    key = uuid.uuid4()
    rest = ok(
        client.post(
            f"{PREFIX}/{mentor.id}{path}",
            json=body,
            headers=auth_headers(coordinator) | {"Idempotency-Key": str(key)},
        )
    )
    # The same call through the RPC, with the same key: the database's own first result.
    rpc_json = rpc_result(
        conn, coordinator, function, mentor_id=mentor.id, idempotency_key=key, **body
    )
    assert rest["changed"] is True
    assert_same_result(rest, rpc_json, models.TransitionResult.from_json)


def test_auto_expire_returns_what_the_rpc_returns_for_the_same_call(
    client: httpx.Client, conn: psycopg.Connection[Any], org: Organization
) -> None:
    mentor = new_mentor(org, org.coordinator())
    org.world.lapse(mentor)
    conn.commit()
    path = f"{PREFIX}/{mentor.id}/auto-expire"
    first = ok(client.post(path, headers=auth_headers(org.admin)))
    assert (first["changed"], first["status"]) == (True, "expired_cert")
    assert first["event"]["actorKind"] == "admin"
    again = ok(client.post(path, headers=auth_headers(org.admin)))
    rpc_json = rpc_result(conn, org.admin, "auto_expire_for_certification", mentor_id=mentor.id)
    assert again["changed"] is False
    assert_same_result(again, rpc_json, models.TransitionResult.from_json)


READS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "get_current_status": ("/status", models.CurrentStatus.from_json),
    "get_pause_history": ("/history", models.PauseHistory.from_json),
}


@pytest.mark.parametrize("function", sorted(READS))
def test_a_read_returns_what_the_rpc_returns(
    client: httpx.Client, conn: psycopg.Connection[Any], org: Organization, function: str
) -> None:
    coordinator = org.coordinator()
    mentor = new_mentor(org, coordinator, status="paused")
    path, parse = READS[function]
    rest = ok(client.get(f"{PREFIX}/{mentor.id}{path}", headers=auth_headers(coordinator)))
    rpc_json = rpc_result(conn, coordinator, function, mentor_id=mentor.id)
    assert_same_result(rest, rpc_json, parse)


def test_the_paused_list_returns_what_the_rpc_returns(
    client: httpx.Client, conn: psycopg.Connection[Any], org: Organization
) -> None:
    coordinator = org.coordinator()
    for _ in range(2):
        new_mentor(org, coordinator, status="paused")
    rest = ok(client.get(f"{PREFIX}/paused", headers=auth_headers(coordinator)))
    rpc_json = rpc_result(conn, coordinator, "get_paused_mentors")
    assert len(rest) == 2
    assert_same_result(
        rest, rpc_json, lambda rows: [models.PausedMentor.from_json(r) for r in rows]
    )


def test_the_transitions_are_the_state_machine_table(
    client: httpx.Client, conn: psycopg.Connection[Any], org: Organization
) -> None:
    rest = ok(client.get(f"{PREFIX}/transitions", headers=auth_headers(org.admin)))
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        table = cur.execute(
            "select t.from_status::text, t.to_status::text, t.actor_kind::text,"
            " t.certification::text, t.own_pause_only, t.description"
            " from mentoring.transitions t order by t.from_status, t.to_status, t.actor_kind"
        ).fetchall()
    assert rest == camel_keys(table)
    for rule in rest:
        allowed = rpc_result(
            conn,
            org.admin,
            "is_transition_allowed",
            current_status=rule["fromStatus"],
            target_status=rule["toStatus"],
        )
        assert allowed is True


# -- idempotency ------------------------------------------------------------------------


def test_an_idempotency_key_repeats_the_first_result_and_refuses_other_arguments(
    client: httpx.Client, org: Organization
) -> None:
    coordinator = org.coordinator()
    mentor = new_mentor(org, coordinator)
    headers = auth_headers(coordinator) | {"Idempotency-Key": str(uuid.uuid4())}
    url = f"{PREFIX}/{mentor.id}/activate"
    first = ok(client.post(url, json={"reason": "exams"}, headers=headers))
    repeat = ok(client.post(url, json={"reason": "exams"}, headers=headers))
    assert repeat == first
    other = client.post(url, json={"reason": "travel"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_conflict"
    history = ok(client.get(f"{PREFIX}/{mentor.id}/history", headers=auth_headers(coordinator)))
    assert len(history["events"]) == 1


# -- PostgREST's errors -----------------------------------------------------------------


def test_a_refusal_has_postgrests_body_with_the_databases_details(
    client: httpx.Client, org: Organization
) -> None:
    coordinator = org.coordinator()
    mentor = new_mentor(org, coordinator)
    response = client.post(f"{PREFIX}/{mentor.id}/lift", headers=auth_headers(coordinator))
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == "transition_not_allowed"
    assert body["details"]["current_status"] == "active"


def test_an_unknown_mentor_is_404(client: httpx.Client, org: Organization) -> None:
    response = client.get(f"{PREFIX}/{uuid.uuid4()}/status", headers=auth_headers(org.admin))
    assert response.status_code == 404
    assert response.json()["code"] == "mentor_not_found"


def test_a_reason_the_database_refuses_is_400_invalid_input(
    client: httpx.Client, org: Organization
) -> None:
    coordinator = org.coordinator()
    mentor = new_mentor(org, coordinator)
    far = (org.world.today(org.id) + timedelta(days=400)).isoformat()
    response = client.post(
        f"{PREFIX}/{mentor.id}/activate",
        json={"reason": "long", "expectedReturnDate": far},
        headers=auth_headers(coordinator),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


# -- 400 before the database ------------------------------------------------------------

MENTOR = "6f1c2a0e-8a8b-4c55-9a55-0c1d2e3f4a5b"
MALFORMED = {
    "malformed JSON": ("POST", f"/{MENTOR}/activate", {"content": b'{"reason": '}, None),
    "a JSON array": ("POST", f"/{MENTOR}/activate", {"json": ["x"]}, None),
    "no body": ("POST", f"/{MENTOR}/activate", {}, None),
    "a number for text": ("POST", f"/{MENTOR}/activate", {"json": {"reason": 7}}, "reason"),
    "text for a boolean": (
        "POST",
        f"/{MENTOR}/activate",
        {"json": {"reason": "x", "force": "true"}},
        "force",
    ),
    "a number for a date": (
        "POST",
        f"/{MENTOR}/activate",
        {"json": {"reason": "x", "expectedReturnDate": 20301231}},
        "expectedReturnDate",
    ),
    "a date that is not one": (
        "POST",
        f"/{MENTOR}/activate",
        {"json": {"reason": "x", "expectedReturnDate": "2030-02-30"}},
        "expectedReturnDate",
    ),
    "an unknown field": (
        "POST",
        f"/{MENTOR}/activate",
        {"json": {"reason": "x", "returnDate": "2030-01-01"}},
        "returnDate",
    ),
    "a snake_case field": (
        "POST",
        f"/{MENTOR}/activate",
        {"json": {"reason": "x", "expected_return_date": "2030-01-01"}},
        "expected_return_date",
    ),
    "an unknown field to lift": ("POST", f"/{MENTOR}/lift", {"json": {"why": "x"}}, "why"),
    "a bad mentor UUID": ("GET", "/not-a-uuid/status", {}, "mentorId"),
    "a UUID without dashes": ("GET", f"/{MENTOR.replace('-', '')}/history", {}, "mentorId"),
    "a bad coordinator UUID": (
        "GET",
        "/paused",
        {"params": {"coordinatorId": "7"}},
        "coordinatorId",
    ),
    "a bad idempotency key": (
        "POST",
        f"/{MENTOR}/reactivate",
        {"headers": {"Idempotency-Key": "again"}},
        "Idempotency-Key",
    ),
}


@pytest.fixture(scope="module")
def offline_server() -> Iterator[RestServer]:
    """The app with a database that does not answer: whatever needs it gets 503."""
    with serve(f"postgresql://nobody@127.0.0.1:{free_port()}/none", pool_timeout=0.5) as server:
        yield server


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_is_400_invalid_input_before_the_database_is_touched(
    offline_server: RestServer, case: str
) -> None:
    method, path, request, field = MALFORMED[case]
    with offline_server.client() as client:
        response = client.request(method, PREFIX + path, **request)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["details"]["field"] == field
    assert body["message"]


def test_a_well_formed_request_to_an_unavailable_database_is_503_with_retry_after(
    offline_server: RestServer,
) -> None:
    with offline_server.client() as client:
        response = client.post(f"{PREFIX}/{MENTOR}/activate", json={"reason": "x"})
        health = client.get("/healthz")
    for answer in (response, health):
        assert answer.status_code == 503
        assert answer.json()["code"] == "service_unavailable"
        assert int(answer.headers["Retry-After"]) > 0


# -- nothing leaks ----------------------------------------------------------------------


def test_an_unexpected_database_error_is_a_generic_500_logged_by_the_service(
    isolated_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with isolated_db.connect() as conn:
        org = World(conn).organization()
        mentor = org.mentor()
        # the contract is there (health says so), one function of it is not: a bug
        conn.execute("alter function api.get_pause_history(uuid) rename to moved_away")
        conn.commit()
    with (
        caplog.at_level(logging.ERROR, logger="pyproj_rpc.rest"),
        serve(isolated_db.url) as server,
        server.client() as client,
    ):
        assert client.get("/healthz").status_code == 200
        response = client.get(f"{PREFIX}/{mentor.id}/history", headers=auth_headers(org.admin))
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "internal server error",
        "details": None,
        "hint": "retry, or report it",
    }
    assert "get_pause_history" not in response.text
    assert any(
        "get_pause_history" in record.getMessage() + str(record.exc_info)
        for record in caplog.records
    )


# -- overload ---------------------------------------------------------------------------


def waiting_for_a_lock(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "select count(*) from pg_stat_activity"
        " where wait_event_type = 'Lock' and datname = current_database()"
    ).fetchone()
    assert row is not None
    count: int = row[0]
    return count


def test_when_every_connection_is_busy_a_request_gets_503_at_once_not_a_queue(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        org = World(conn).organization()
        mentor = org.mentor()
        conn.commit()
    url = f"{PREFIX}/{mentor.id}/status"
    headers = auth_headers(org.admin)
    with (
        serve(isolated_db.url, pool_size=1, pool_timeout=0.2) as server,
        server.client() as client,
        isolated_db.connect() as locker,
        isolated_db.connect(autocommit=True) as watcher,  # a fresh pg_stat_activity each time
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        # ready: the pool holds its connection (it opens in the background)
        eventually(lambda: client.get("/healthz").status_code == 200, "a healthy API")
        locker.execute("lock table mentoring.mentors in access exclusive mode")
        slow = pool.submit(client.get, url, headers=headers)
        # the one pooled connection now waits for the lock
        eventually(lambda: waiting_for_a_lock(watcher) > 0, "the request to hold a lock")
        refused = client.get(url, headers=headers)
        locker.rollback()
        served = slow.result(timeout=DEADLINE_SECONDS)
    assert refused.status_code == 503
    assert refused.json()["code"] == "service_unavailable"
    assert refused.headers["Retry-After"] == "1"
    assert served.status_code == 200


# -- health -----------------------------------------------------------------------------


def test_health_is_ok_when_the_database_holds_the_contract(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_health_is_503_on_a_database_that_is_not_migrated(empty_db: Database) -> None:
    with serve(empty_db.url) as server, server.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert "migrate" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{PREFIX}/{uuid.UUID(int=1)}/status"),
        ("GET", f"{PREFIX}/paused"),
        ("GET", f"{PREFIX}/transitions"),
        ("POST", f"{PREFIX}/{uuid.UUID(int=1)}/activate"),
    ],
)
def test_every_endpoint_is_503_not_500_on_a_database_that_is_not_migrated(
    empty_db: Database, method: str, path: str
) -> None:
    headers = {"Authorization": f"Bearer {token_for(Identity.service())}"}
    with serve(empty_db.url) as server, server.client() as client:
        response = client.request(method, path, headers=headers, json={"reason": "away"})
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"
    assert "not migrated" in response.json()["message"]
    assert "Retry-After" in response.headers
