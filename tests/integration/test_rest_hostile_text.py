"""Text PostgreSQL cannot hold is a 400 ``invalid_input`` naming its field, never a 500.

A NUL character or a lone surrogate, anywhere the adapter reads text (a request body, a
header, the query, the path, the claims of a signed token), and a body that is not UTF-8,
are refused before the database is touched: nothing changes, and the service logs no
traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from pyproj_rpc.identity import Identity
from pyproj_rpc.rest.app import PREFIX
from tests.rest_support import RestServer, auth_headers, mint
from tests.support import Mentor, Organization, World

JSON = {"Content-Type": "application/json"}

# How hostile text reaches the adapter: JSON escapes, or raw bytes (a surrogate encoded
# as UTF-8 bytes, which Python's JSON decoder lets through).
HOSTILE_BODIES = {
    "a NUL": json.dumps({"reason": "on\x00leave"}).encode(),
    "a lone surrogate": json.dumps({"reason": "on\ud800leave"}).encode(),
    "a lone surrogate as raw bytes": b'{"reason": "on\xed\xa0\x80leave"}',
}
HOSTILE_TEXT = {"a NUL": "on\x00leave", "a lone surrogate": "on\ud800leave"}

# Each write, aimed at a mentor it would change for the coordinator.
WRITES = ("activate", "lift", "reactivate")


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the service and of uvicorn (which does not propagate to root)."""
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="pyproj_rpc")
    try:
        yield caplog
    finally:
        uvicorn_logger.removeHandler(caplog.handler)


def no_traceback_logged(log: pytest.LogCaptureFixture) -> None:
    troubles = [r for r in log.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not troubles, [r.getMessage() for r in troubles]


def mentor_for(write: str, org: Organization, coordinator: Identity) -> Mentor:
    world = org.world
    if write == "activate":
        mentor = org.mentor(coordinators=(coordinator,))
    elif write == "lift":
        mentor = org.mentor(coordinators=(coordinator,), status="paused")
    else:
        mentor = org.mentor(coordinators=(coordinator,), status="expired_cert")
        today = world.today(org.id)
        world.certify(mentor, today, today + timedelta(days=365))
    world.conn.commit()
    return mentor


def snapshot(world: World, mentor: Mentor) -> tuple[str, dict[str, int]]:
    state = (world.status(mentor), world.counts(mentor))
    world.conn.commit()  # end the read's transaction: the next read sees new commits
    return state


def assert_invalid_input(response: httpx.Response, field: str | None) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == "invalid_input"
    assert body["details"]["field"] == field
    assert body["message"]
    return body


@pytest.mark.parametrize("token", [True, False], ids=["with a token", "without a token"])
@pytest.mark.parametrize("text", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("write", WRITES)
def test_a_reason_postgresql_cannot_hold_is_400_naming_the_field_and_changes_nothing(
    client: httpx.Client,
    org: Organization,
    log: pytest.LogCaptureFixture,
    *,
    write: str,
    text: str,
    token: bool,
) -> None:
    coordinator = org.coordinator()
    mentor = mentor_for(write, org, coordinator)
    before = snapshot(org.world, mentor)
    headers = JSON | (auth_headers(coordinator) if token else {})
    response = client.post(
        f"{PREFIX}/{mentor.id}/{write}", content=HOSTILE_BODIES[text], headers=headers
    )
    body = assert_invalid_input(response, "reason")
    assert "PostgreSQL text cannot hold" in body["message"]
    assert snapshot(org.world, mentor) == before
    no_traceback_logged(log)
    # The text alone was refused: the same write with clean text goes through.
    clean = client.post(
        f"{PREFIX}/{mentor.id}/{write}",
        json={"reason": "on leave"},
        headers=auth_headers(coordinator),
    )
    assert clean.status_code == 200, clean.text


# -- the token --------------------------------------------------------------------------

HOSTILE_CLAIMS: dict[str, Callable[[str], dict[str, Any]]] = {
    "a NUL in the sub": lambda user: {"sub": f"{user}\x00"},
    "a NUL in the email": lambda user: {"sub": user, "email": "a\x00@example.org"},
    "a lone surrogate in the email": lambda user: {"sub": user, "email": "\udc80@example.org"},
    "a NUL in an extra claim": lambda user: {"sub": user, "app_metadata": {"note": ["\x00"]}},
    "a lone surrogate in an extra claim": lambda user: {"sub": user, "note": "\ud800"},
    "a NUL in a claim's name": lambda user: {"sub": user, "no\x00te": "x"},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CLAIMS))
def test_a_signed_token_with_a_claim_postgresql_cannot_hold_is_400_naming_authorization(
    client: httpx.Client, org: Organization, log: pytest.LogCaptureFixture, case: str
) -> None:
    coordinator = org.coordinator()
    mentor = mentor_for("activate", org, coordinator)
    before = snapshot(org.world, mentor)
    claims = {"role": "authenticated", "aud": "authenticated"}
    claims |= HOSTILE_CLAIMS[case](str(coordinator.user_id))
    headers = {"Authorization": f"Bearer {mint(claims)}"}
    status = client.get(f"{PREFIX}/{mentor.id}/status", headers=headers)
    write = client.post(f"{PREFIX}/{mentor.id}/activate", json={"reason": "exams"}, headers=headers)
    for response in (status, write):
        body = assert_invalid_input(response, "Authorization")
        assert "claim of the token" in body["message"]
    assert snapshot(org.world, mentor) == before
    no_traceback_logged(log)


# -- a body that is not UTF-8 -----------------------------------------------------------

NOT_UTF8 = {
    "a stray byte in a string": b'{"reason": "caf\xe9"}',
    "a stray byte outside strings": b'{"reason": "x"}\xff',
}


@pytest.mark.parametrize("case", sorted(NOT_UTF8))
@pytest.mark.parametrize("write", WRITES)
def test_a_body_that_is_not_utf8_is_400_invalid_input(
    client: httpx.Client, org: Organization, log: pytest.LogCaptureFixture, write: str, case: str
) -> None:
    coordinator = org.coordinator()
    mentor = mentor_for(write, org, coordinator)
    before = snapshot(org.world, mentor)
    response = client.post(
        f"{PREFIX}/{mentor.id}/{write}",
        content=NOT_UTF8[case],
        headers=JSON | auth_headers(coordinator),
    )
    body = assert_invalid_input(response, None)
    assert "UTF-8" in body["message"]
    assert snapshot(org.world, mentor) == before
    no_traceback_logged(log)


# -- headers, query and path ------------------------------------------------------------

MENTOR = "6f1c2a0e-8a8b-4c55-9a55-0c1d2e3f4a5b"
# Raw URL bytes: %00 is a NUL; %ED%A0%80 is a surrogate encoded as UTF-8.
HOSTILE_PARTS: dict[str, tuple[str, str, dict[bytes, bytes], str]] = {
    "a NUL in the mentorId": ("GET", "/%00/status", {}, "mentorId"),
    "a surrogate in the mentorId": ("GET", "/%ED%A0%80/history", {}, "mentorId"),
    "a NUL after a valid mentorId": ("GET", f"/{MENTOR}%00/status", {}, "mentorId"),
    "a NUL in the coordinatorId": ("GET", "/paused?coordinatorId=%00", {}, "coordinatorId"),
    "a surrogate in the coordinatorId": (
        "GET",
        f"/paused?coordinatorId={MENTOR}%ED%A0%80",
        {},
        "coordinatorId",
    ),
    "a surrogate in the Idempotency-Key": (
        "POST",
        f"/{MENTOR}/lift",
        {b"Idempotency-Key": b"\xed\xa0\x80"},
        "Idempotency-Key",
    ),
    "a stray byte in the Idempotency-Key": (
        "POST",
        f"/{MENTOR}/lift",
        {b"Idempotency-Key": MENTOR.encode() + b"\xff"},
        "Idempotency-Key",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PARTS))
def test_hostile_text_in_a_header_the_query_or_the_path_is_400_naming_it(
    server: RestServer, org: Organization, log: pytest.LogCaptureFixture, case: str
) -> None:
    # Already refused by the UUID checks of these values; kept so that it stays so.
    method, target, extra_headers, field = HOSTILE_PARTS[case]
    token = {k.encode(): v.encode() for k, v in auth_headers(org.admin).items()}
    headers = token | extra_headers
    # The target's bytes go out exactly as written.
    with server.client() as client:
        request = client.build_request(method, PREFIX + target, headers=headers)
        request.url = request.url.copy_with(raw_path=(PREFIX + target).encode())
        response = client.send(request)
    body = assert_invalid_input(response, field)
    assert body["details"]["errors"][0]["field"] == field
    no_traceback_logged(log)
