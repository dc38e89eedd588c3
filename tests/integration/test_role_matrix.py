"""Who may call what: every api function for every kind of caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from pyproj_rpc.api_errors import ERRORS_BY_CODE, PauseManagementError
from pyproj_rpc.identity import Identity
from tests.support import Mentor, World, call

CALLERS = (
    "anon",
    "the_mentor",
    "another_mentor",
    "assigned_coordinator",
    "unassigned_coordinator",
    "coordinator_elsewhere",
    "admin_elsewhere",
    "admin",
    "service_role",
)
OK = "ok"

# Callers with no relation to the mentor: the mentor does not exist for them.
STRANGERS = dict.fromkeys(
    ["another_mentor", "unassigned_coordinator", "coordinator_elsewhere", "admin_elsewhere"],
    "mentor_not_found",
)
NO_USER = {"anon": "unauthenticated"}


def expect(mentor: str, coordinator: str, admin: str, service: str) -> dict[str, str]:
    return (
        NO_USER
        | STRANGERS
        | {
            "the_mentor": mentor,
            "assigned_coordinator": coordinator,
            "admin": admin,
            "service_role": service,
        }
    )


# Outcome per function and caller: "ok" or the error code.
EXPECTED: dict[str, dict[str, str]] = {
    "activate_pause": expect(mentor=OK, coordinator=OK, admin=OK, service="forbidden"),
    # the pause was started by the assigned coordinator
    "lift_pause": expect(mentor="forbidden", coordinator=OK, admin=OK, service="forbidden"),
    # expired, then recertified
    "reactivate_mentor": expect(mentor="forbidden", coordinator=OK, admin=OK, service="forbidden"),
    # certification lapsed
    "auto_expire_for_certification": expect(
        mentor="forbidden", coordinator="forbidden", admin=OK, service=OK
    ),
    "get_current_status": expect(mentor=OK, coordinator=OK, admin=OK, service=OK),
    "get_pause_history": expect(mentor=OK, coordinator=OK, admin=OK, service=OK),
    "is_transition_allowed": dict.fromkeys(CALLERS, OK) | NO_USER,
}

# get_paused_mentors() lists the paused mentor for exactly these callers (others: []).
SEES_THE_PAUSED_MENTOR = {"assigned_coordinator", "service_role"}


@dataclass
class Cast:
    world: World
    mentor: Mentor
    callers: dict[str, Identity]


@pytest.fixture
def cast(world: World) -> Cast:
    return build_cast(world)


def build_cast(world: World) -> Cast:
    """A mentor with an assigned coordinator, and every kind of caller around them."""
    org, elsewhere = world.organization(), world.organization()
    assigned, unassigned = org.coordinator(), org.coordinator()
    mentor = org.mentor(coordinators=(assigned,))
    another = org.mentor()
    callers = {
        "anon": Identity.anon(),
        "the_mentor": mentor.identity,
        "another_mentor": another.identity,
        "assigned_coordinator": assigned,
        "unassigned_coordinator": unassigned,
        "coordinator_elsewhere": elsewhere.coordinator(),
        "admin_elsewhere": elsewhere.admin,
        "admin": org.admin,
        "service_role": Identity.service(),
    }
    return Cast(world, mentor, callers)


def prepare(cast: Cast, function: str) -> dict[str, Any]:
    """Put the mentor in the state the function applies to; return its arguments."""
    world, mentor = cast.world, cast.mentor
    coordinator = cast.callers["assigned_coordinator"]
    if function == "lift_pause":
        call(world.conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="setup")
    elif function == "reactivate_mentor":
        world.lapse(mentor)
        call(world.conn, Identity.service(), "auto_expire_for_certification", mentor_id=mentor.id)
        today = world.today(mentor.organization_id)
        world.certify(mentor, today, today + timedelta(days=365))
    elif function == "auto_expire_for_certification":
        world.lapse(mentor)
    if function == "is_transition_allowed":
        return {"current_status": "active", "target_status": "paused"}
    if function == "activate_pause":
        return {"mentor_id": mentor.id, "reason": "matrix"}
    return {"mentor_id": mentor.id}


def outcome(cast: Cast, caller: str, function: str, arguments: dict[str, Any]) -> str:
    try:
        call(cast.world.conn, cast.callers[caller], function, **arguments)
    except PauseManagementError as error:
        return error.code
    return OK


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_caller_gets_exactly_what_the_role_matrix_says(
    cast: Cast, function: str, caller: str
) -> None:
    arguments = prepare(cast, function)
    assert outcome(cast, caller, function, arguments) == EXPECTED[function][caller]


@pytest.mark.parametrize("caller", CALLERS)
def test_paused_mentors_are_listed_to_their_coordinator_and_the_service_only(
    cast: Cast, caller: str
) -> None:
    prepare(cast, "lift_pause")  # paused by the assigned coordinator
    identity = cast.callers[caller]
    if caller == "anon":
        with pytest.raises(ERRORS_BY_CODE["unauthenticated"]):
            call(cast.world.conn, identity, "get_paused_mentors")
        return
    listed = call(cast.world.conn, identity, "get_paused_mentors")
    expected = [str(cast.mentor.id)] if caller in SEES_THE_PAUSED_MENTOR else []
    assert [row["mentor_id"] for row in listed] == expected


def test_an_admin_lists_the_paused_mentors_of_one_of_their_coordinators(cast: Cast) -> None:
    prepare(cast, "lift_pause")
    coordinator = cast.callers["assigned_coordinator"]
    listed = call(
        cast.world.conn,
        cast.callers["admin"],
        "get_paused_mentors",
        coordinator_id=coordinator.user_id,
    )
    assert [row["mentor_id"] for row in listed] == [str(cast.mentor.id)]
    assert listed[0]["open_pause"]["reason"] == "setup"


def test_another_organizations_admin_cannot_list_them_even_by_coordinator(cast: Cast) -> None:
    prepare(cast, "lift_pause")
    coordinator = cast.callers["assigned_coordinator"]
    listed = call(
        cast.world.conn,
        cast.callers["admin_elsewhere"],
        "get_paused_mentors",
        coordinator_id=coordinator.user_id,
    )
    assert listed == []
