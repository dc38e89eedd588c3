"""The state machine: every (from, to, actor) combination, with its exact side effects."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from pyproj_rpc.api_errors import (
    CertificationLapsed,
    CertificationValid,
    Forbidden,
    PauseManagementError,
    TransitionNotAllowed,
)
from pyproj_rpc.identity import Identity
from tests.support import Mentor, Organization, World, call

STATUSES = ("active", "paused", "expired_cert")
ACTORS = ("mentor", "coordinator", "admin", "system")

# The product rules, written out here independently of mentoring.transitions.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("active", "paused"): {"mentor", "coordinator", "admin"},
    ("paused", "active"): {"mentor", "coordinator", "admin"},  # mentor: their own pause
    ("active", "expired_cert"): {"system", "admin"},
    ("paused", "expired_cert"): {"system", "admin"},
    ("expired_cert", "active"): {"coordinator", "admin"},
    ("expired_cert", "paused"): set(),
}
# The api function that asks for each transition.
ASKED_WITH = {
    ("active", "paused"): "activate_pause",
    ("paused", "active"): "lift_pause",
    ("active", "expired_cert"): "auto_expire_for_certification",
    ("paused", "expired_cert"): "auto_expire_for_certification",
    ("expired_cert", "active"): "reactivate_mentor",
    ("expired_cert", "paused"): "activate_pause",
}
END_REASONS = {"lift_pause": "lifted", "reactivate_mentor": "reactivated"}


class Scene:
    """An organization, a mentor in a given status, two coordinators, and the actors."""

    def __init__(self, world: World, status: str, *, certified: bool) -> None:
        self.world = world
        self.org: Organization = world.organization()
        self.coordinators = (self.org.coordinator(), self.org.coordinator())
        self.mentor: Mentor = self.org.mentor(
            status=status, certified=True, coordinators=self.coordinators
        )
        if not certified:
            world.lapse(self.mentor)

    def actor(self, kind: str) -> Identity:
        return {
            "mentor": self.mentor.identity,
            "coordinator": self.coordinators[0],
            "admin": self.org.admin,
            "system": Identity.service(),
        }[kind]

    def ask(self, function: str, actor: Identity, **kwargs: Any) -> Any:
        arguments: dict[str, Any] = {"mentor_id": self.mentor.id, **kwargs}
        if function == "activate_pause":
            arguments.setdefault("reason", "family matters")
        return call(self.world.conn, actor, function, **arguments)


def matrix() -> list[Any]:
    return [
        pytest.param(source, target, actor, id=f"{source}-to-{target}-by-{actor}")
        for source, target in itertools.permutations(STATUSES, 2)
        for actor in ACTORS
    ]


@pytest.mark.parametrize(("source", "target", "actor_kind"), matrix())
def test_each_transition_is_taken_exactly_by_the_actors_the_rules_allow(
    world: World, source: str, target: str, actor_kind: str
) -> None:
    scene = Scene(world, source, certified=target != "expired_cert")
    actor = scene.actor(actor_kind)
    before = world.counts(scene.mentor)
    allowed = actor_kind in ALLOWED[(source, target)]

    if not allowed:
        expected = Forbidden if ALLOWED[(source, target)] else TransitionNotAllowed
        with pytest.raises(expected) as refused:
            scene.ask(ASKED_WITH[(source, target)], actor)
        assert refused.value.details["current_status"] == source
        assert world.status(scene.mentor) == source
        assert world.counts(scene.mentor) == before
        return

    result = scene.ask(ASKED_WITH[(source, target)], actor)
    assert result["changed"] is True
    assert (result["previous_status"], result["status"]) == (source, target)
    assert world.status(scene.mentor) == target

    after = world.counts(scene.mentor)
    assert after["events"] == before["events"] + 1
    event = world.events(scene.mentor)[-1]
    assert (event["from_status"], event["to_status"]) == (source, target)
    assert event["actor_kind"] == actor_kind
    assert event["actor_user_id"] == actor.user_id
    assert event["id"] == world.event_id(result)

    pauses = world.pauses(scene.mentor)
    if target == "paused":
        assert after["pauses"] == before["pauses"] + 1
        assert pauses[-1]["ended_at"] is None
        assert pauses[-1]["started_by_kind"] == actor_kind
    else:
        assert after["pauses"] == before["pauses"]
        assert all(p["ended_at"] is not None for p in pauses)
    if source == "paused":
        expected_end = "certification_expired" if target == "expired_cert" else "lifted"
        assert pauses[-1]["end_reason"] == expected_end
        assert pauses[-1]["ended_by_kind"] == actor_kind

    recipients = {row["recipient_id"] for row in world.outbox(event["id"])}
    assert recipients == {c.user_id for c in scene.coordinators} - {actor.user_id}


def test_reactivating_a_paused_mentor_ends_the_pause_as_reactivated(world: World) -> None:
    scene = Scene(world, "paused", certified=True)
    scene.ask("reactivate_mentor", scene.coordinators[0], reason="ready again")
    pause = world.pauses(scene.mentor)[-1]
    assert (pause["end_reason"], pause["end_note"]) == ("reactivated", "ready again")


def test_a_mentor_cannot_lift_a_pause_a_coordinator_started(world: World) -> None:
    scene = Scene(world, "active", certified=True)
    scene.ask("activate_pause", scene.coordinators[0])
    with pytest.raises(Forbidden, match="pause they started themselves") as refused:
        scene.ask("lift_pause", scene.mentor.identity)
    assert refused.value.hint == "ask a coordinator to lift this pause"
    assert world.status(scene.mentor) == "paused"


def test_lifting_a_pause_is_refused_while_the_certification_is_lapsed(world: World) -> None:
    scene = Scene(world, "paused", certified=False)
    with pytest.raises(CertificationLapsed):
        scene.ask("lift_pause", scene.coordinators[0])
    assert world.status(scene.mentor) == "paused"


def test_reactivation_after_expiry_needs_a_new_certification(world: World) -> None:
    scene = Scene(world, "active", certified=False)
    scene.ask("auto_expire_for_certification", Identity.service())
    with pytest.raises(CertificationLapsed):
        scene.ask("reactivate_mentor", scene.coordinators[0])
    today = world.today(scene.org.id)
    world.certify(scene.mentor, today, None)
    result = scene.ask("reactivate_mentor", scene.coordinators[0], reason="recertified")
    assert (result["previous_status"], result["status"]) == ("expired_cert", "active")


def test_expiry_is_refused_while_the_certification_is_valid(world: World) -> None:
    scene = Scene(world, "active", certified=True)
    with pytest.raises(CertificationValid) as refused:
        scene.ask("auto_expire_for_certification", Identity.service())
    assert refused.value.details["valid_until"] is not None
    assert world.status(scene.mentor) == "active"


def test_expiring_an_expired_mentor_changes_nothing_and_notifies_nobody(world: World) -> None:
    scene = Scene(world, "active", certified=False)
    first = scene.ask("auto_expire_for_certification", Identity.service())
    before = world.counts(scene.mentor)
    again = scene.ask("auto_expire_for_certification", Identity.service())
    assert first["changed"] is True
    assert again["changed"] is False
    assert again["status"] == "expired_cert"
    assert again["event"] is None
    assert world.counts(scene.mentor) == before


def test_expiring_an_expired_mentor_is_still_refused_to_a_mentor(world: World) -> None:
    scene = Scene(world, "expired_cert", certified=False)
    with pytest.raises(Forbidden):
        scene.ask("auto_expire_for_certification", scene.mentor.identity)


def test_a_certification_that_ends_today_has_lapsed_today(world: World) -> None:
    scene = Scene(world, "active", certified=True)
    today = world.today(scene.org.id)
    world.execute(
        "update mentoring.certifications set valid_during = daterange(%s - 10, %s)"
        " where mentor_id = %s",
        (today, today, scene.mentor.id),
    )
    result = scene.ask("auto_expire_for_certification", Identity.service())
    assert result["status"] == "expired_cert"


def test_back_to_back_certifications_count_as_one_unbroken_validity(world: World) -> None:
    scene = Scene(world, "active", certified=False)
    today = world.today(scene.org.id)
    world.execute("delete from mentoring.certifications where mentor_id = %s", (scene.mentor.id,))
    world.certify(scene.mentor, today - timedelta(days=20), today)
    world.certify(scene.mentor, today, today + timedelta(days=365))
    status = scene.ask("get_current_status", scene.coordinators[0])
    assert status["certification"] == {
        "certified": True,
        "valid_until": (today + timedelta(days=364)).isoformat(),
    }


@pytest.mark.parametrize(
    ("actor_kind", "allowed"),
    [
        ("mentor", ["paused"]),
        ("coordinator", ["paused"]),
        ("admin", ["paused"]),
        ("system", []),
    ],
)
def test_current_status_lists_the_transitions_this_caller_may_take_now(
    world: World, actor_kind: str, allowed: list[str]
) -> None:
    scene = Scene(world, "active", certified=True)
    status = scene.ask("get_current_status", scene.actor(actor_kind))
    assert status["status"] == "active"
    assert status["caller_kind"] == actor_kind
    assert status["allowed_transitions"] == allowed


def test_current_status_offers_an_admin_pause_and_expiry_of_a_lapsed_mentor(
    world: World,
) -> None:
    scene = Scene(world, "active", certified=False)
    status = scene.ask("get_current_status", scene.org.admin)
    assert status["allowed_transitions"] == ["paused", "expired_cert"]
    assert status["certification"] == {"certified": False, "valid_until": None}


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("active", "paused", True),
        ("paused", "active", True),
        ("active", "expired_cert", True),
        ("paused", "expired_cert", True),
        ("expired_cert", "active", True),
        ("expired_cert", "paused", False),
        ("active", "active", False),
    ],
)
def test_is_transition_allowed_answers_from_the_transition_table(
    world: World, current: str, target: str, expected: bool
) -> None:
    org = world.organization()
    assert (
        call(
            world.conn,
            org.admin,
            "is_transition_allowed",
            current_status=current,
            target_status=target,
        )
        is expected
    )


@pytest.mark.parametrize(("current", "target"), [("asleep", "active"), ("active", None)])
def test_is_transition_allowed_refuses_an_unknown_status(
    world: World, current: str, target: str | None
) -> None:
    org = world.organization()
    with pytest.raises(PauseManagementError) as refused:
        call(
            world.conn,
            org.admin,
            "is_transition_allowed",
            current_status=current,
            target_status=target,
        )
    assert refused.value.code == "invalid_input"
