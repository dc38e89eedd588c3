"""Every REST endpoint for every caller of the core's role matrix, over real HTTP.

The expectations are the core's (tests/integration/test_role_matrix.py): the REST adapter
adds no rule, so each caller gets exactly what the RPC gives them, with the status of
``mentoring.error_codes``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Database
from tests.integration.test_role_matrix import (
    CALLERS,
    EXPECTED,
    OK,
    SEES_THE_PAUSED_MENTOR,
    Cast,
    build_cast,
    prepare,
)
from tests.rest_support import PREFIX, auth_headers
from tests.support import World


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {mentor} is the cast's mentor

    def request(self, client: httpx.Client, cast: Cast, caller: str, **kwargs: Any) -> Any:
        url = PREFIX + self.path.format(mentor=cast.mentor.id)
        headers = auth_headers(cast.callers[caller])
        return client.request(self.method, url, headers=headers, **kwargs)


# The endpoint that runs each function of the core's matrix. The state machine listing
# is readable by exactly the callers of is_transition_allowed: everyone signed in.
ENDPOINTS = {
    "activate_pause": Endpoint("POST", "/{mentor}/activate"),
    "lift_pause": Endpoint("POST", "/{mentor}/lift"),
    "reactivate_mentor": Endpoint("POST", "/{mentor}/reactivate"),
    "auto_expire_for_certification": Endpoint("POST", "/{mentor}/auto-expire"),
    "get_current_status": Endpoint("GET", "/{mentor}/status"),
    "get_pause_history": Endpoint("GET", "/{mentor}/history"),
    "is_transition_allowed": Endpoint("GET", "/transitions"),
}
PAUSED = Endpoint("GET", "/paused")


def test_every_endpoint_runs_a_function_of_the_core_matrix() -> None:
    assert set(ENDPOINTS) <= set(EXPECTED)


@pytest.fixture(scope="module")
def error_statuses(database: Database) -> dict[str, int]:
    """The core's error table: the status PostgREST answers for each code."""
    with database.connect() as conn:
        rows = conn.execute("select code, http_status from mentoring.error_codes").fetchall()
    return dict(rows)


@pytest.fixture
def cast(database: Database) -> Iterator[Cast]:
    """The core matrix's cast, committed for the server to see."""
    with database.connect() as conn:
        cast = build_cast(World(conn))
        conn.commit()  # new mentors are checked at commit: before any lapse
        yield cast


def committed(cast: Cast, function: str) -> dict[str, Any]:
    arguments = prepare(cast, function)
    cast.world.conn.commit()
    return arguments


def outcome(response: httpx.Response, error_statuses: dict[str, int]) -> str:
    if response.status_code == 200:
        return OK
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert response.status_code == error_statuses[body["code"]], body
    code: str = body["code"]
    return code


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("function", sorted(ENDPOINTS))
def test_each_caller_gets_over_http_exactly_what_the_role_matrix_says(
    cast: Cast,
    client: httpx.Client,
    error_statuses: dict[str, int],
    function: str,
    caller: str,
) -> None:
    arguments = committed(cast, function)
    body = {"reason": arguments["reason"]} if "reason" in arguments else None
    response = ENDPOINTS[function].request(client, cast, caller, json=body)
    assert outcome(response, error_statuses) == EXPECTED[function][caller]


@pytest.mark.parametrize("caller", CALLERS)
def test_paused_mentors_are_listed_over_http_to_their_coordinator_and_the_service_only(
    cast: Cast, client: httpx.Client, error_statuses: dict[str, int], caller: str
) -> None:
    committed(cast, "lift_pause")  # paused by the assigned coordinator
    response = PAUSED.request(client, cast, caller)
    if caller == "anon":
        assert outcome(response, error_statuses) == "unauthenticated"
        return
    listed = [row["mentorId"] for row in response.json()]
    mentor = str(cast.mentor.id)
    if caller == "service_role":  # the system sees every paused mentor of the database
        assert mentor in listed
    else:
        assert listed == ([mentor] if caller in SEES_THE_PAUSED_MENTOR else [])


@pytest.mark.parametrize(("caller", "listed"), [("admin", True), ("admin_elsewhere", False)])
def test_an_admin_lists_the_paused_mentors_of_their_own_coordinators_only(
    cast: Cast, client: httpx.Client, caller: str, listed: bool
) -> None:
    committed(cast, "lift_pause")
    coordinator = cast.callers["assigned_coordinator"].user_id
    response = PAUSED.request(client, cast, caller, params={"coordinatorId": str(coordinator)})
    assert response.status_code == 200
    assert [row["mentorId"] for row in response.json()] == ([str(cast.mentor.id)] if listed else [])
