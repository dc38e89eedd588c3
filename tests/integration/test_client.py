"""The typed clients: each method, allowed and refused, sync and async."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from pyproj_rpc.api_errors import (
    CertificationValid,
    Forbidden,
    InvalidInput,
    MentorNotFound,
    PauseManagementError,
    Unauthenticated,
)
from pyproj_rpc.client import AsyncPauseManagementClient, PauseManagementClient
from pyproj_rpc.identity import Identity
from pyproj_rpc.models import (
    ActorKind,
    CurrentStatus,
    MentorStatus,
    PausedMentor,
    PauseHistory,
    TransitionResult,
)
from tests.conftest import Database
from tests.support import Mentor, World, call


@dataclass
class Scene:
    """Mentors in every state, their coordinator, an outsider and the admin."""

    coordinator: Identity
    outsider: Identity
    admin: Identity
    active: Mentor
    paused_by_mentor: Mentor
    paused_by_coordinator: Mentor
    expired_recertified: Mentor
    lapsed: Mentor


def build_scene(world: World) -> Scene:
    org = world.organization()
    coordinator, outsider = org.coordinator(), org.coordinator()
    team = (coordinator,)
    active = org.mentor(coordinators=team, name="Active")
    paused_by_mentor = org.mentor(coordinators=team, status="paused", name="Self-paused")
    paused_by_coordinator = org.mentor(coordinators=team, name="Coordinator-paused")
    call(
        world.conn,
        coordinator,
        "activate_pause",
        mentor_id=paused_by_coordinator.id,
        reason="check-in",
    )
    expired = org.mentor(coordinators=team, certified=False, name="Recertified")
    call(world.conn, Identity.service(), "auto_expire_for_certification", mentor_id=expired.id)
    today = world.today(org.id)
    world.certify(expired, today, today + timedelta(days=365))
    lapsed = org.mentor(coordinators=team, certified=False, name="Lapsed")
    return Scene(
        coordinator,
        outsider,
        org.admin,
        active,
        paused_by_mentor,
        paused_by_coordinator,
        expired,
        lapsed,
    )


@dataclass(frozen=True)
class Case:
    method: str
    caller: Callable[[Scene], Identity]
    arguments: Callable[[Scene], dict[str, Any]]
    expect: Callable[[Any], bool] | type[PauseManagementError]


def mentor_of(name: str) -> Callable[[Scene], dict[str, Any]]:
    return lambda scene: {"mentor_id": getattr(scene, name).id}


CASES: dict[str, Case] = {
    "activate_pause-allowed": Case(
        "activate_pause",
        lambda s: s.active.identity,
        lambda s: {
            "mentor_id": s.active.id,
            "reason": "exams",
            "expected_return_date": date.today() + timedelta(days=20),
        },
        lambda r: (
            isinstance(r, TransitionResult)
            and r.status is MentorStatus.PAUSED
            and r.open_pause is not None
            and r.event is not None
            and r.event.actor_kind is ActorKind.MENTOR
        ),
    ),
    "activate_pause-refused": Case(
        "activate_pause",
        lambda s: s.paused_by_mentor.identity,
        lambda s: {"mentor_id": s.active.id, "reason": "not mine"},
        MentorNotFound,
    ),
    "lift_pause-allowed": Case(
        "lift_pause",
        lambda s: s.coordinator,
        mentor_of("paused_by_mentor"),
        lambda r: r.status is MentorStatus.ACTIVE and r.previous_status is MentorStatus.PAUSED,
    ),
    "lift_pause-refused": Case(
        "lift_pause",
        lambda s: s.paused_by_coordinator.identity,
        mentor_of("paused_by_coordinator"),
        Forbidden,
    ),
    "reactivate_mentor-allowed": Case(
        "reactivate_mentor",
        lambda s: s.coordinator,
        mentor_of("expired_recertified"),
        lambda r: (
            r.status is MentorStatus.ACTIVE and r.previous_status is MentorStatus.EXPIRED_CERT
        ),
    ),
    "reactivate_mentor-refused": Case(
        "reactivate_mentor",
        lambda s: s.expired_recertified.identity,
        mentor_of("expired_recertified"),
        Forbidden,
    ),
    "auto_expire_for_certification-allowed": Case(
        "auto_expire_for_certification",
        lambda s: Identity.service(),
        mentor_of("lapsed"),
        lambda r: r.status is MentorStatus.EXPIRED_CERT and r.changed,
    ),
    "auto_expire_for_certification-refused": Case(
        "auto_expire_for_certification",
        lambda s: Identity.service(),
        mentor_of("active"),
        CertificationValid,
    ),
    "get_current_status-allowed": Case(
        "get_current_status",
        lambda s: s.coordinator,
        mentor_of("paused_by_mentor"),
        lambda r: (
            isinstance(r, CurrentStatus)
            and r.status is MentorStatus.PAUSED
            and r.allowed_transitions == (MentorStatus.ACTIVE,)
            and r.certification.certified
        ),
    ),
    "get_current_status-refused": Case(
        "get_current_status", lambda s: Identity.anon(), mentor_of("active"), Unauthenticated
    ),
    "get_pause_history-allowed": Case(
        "get_pause_history",
        lambda s: s.admin,
        mentor_of("paused_by_coordinator"),
        lambda r: (
            isinstance(r, PauseHistory)
            and len(r.pauses) == 1
            and r.pauses[0].is_open
            and r.events[0].to_status is MentorStatus.PAUSED
        ),
    ),
    "get_pause_history-refused": Case(
        "get_pause_history", lambda s: s.outsider, mentor_of("active"), MentorNotFound
    ),
    "get_paused_mentors-allowed": Case(
        "get_paused_mentors",
        lambda s: s.coordinator,
        lambda s: {},
        lambda r: (
            all(isinstance(m, PausedMentor) for m in r)
            and {m.display_name for m in r} == {"Self-paused", "Coordinator-paused"}
        ),
    ),
    "get_paused_mentors-refused": Case(
        "get_paused_mentors", lambda s: Identity.anon(), lambda s: {}, Unauthenticated
    ),
    "is_transition_allowed-allowed": Case(
        "is_transition_allowed",
        lambda s: s.admin,
        lambda s: {"current_status": "expired_cert", "target_status": MentorStatus.ACTIVE},
        lambda r: r is True,
    ),
    "expire_lapsed_certifications-allowed": Case(
        "expire_lapsed_certifications",
        lambda s: Identity.service(),
        lambda s: {"batch_size": 10},
        lambda r: r == 1,  # the one lapsed mentor of the scene
    ),
    "expire_lapsed_certifications-refused": Case(
        "expire_lapsed_certifications",
        lambda s: s.coordinator,
        lambda s: {},
        Forbidden,
    ),
    "is_transition_allowed-refused": Case(
        "is_transition_allowed",
        lambda s: Identity.anon(),
        lambda s: {"current_status": "active", "target_status": "paused"},
        Unauthenticated,
    ),
}


def check(case: Case, scene: Scene, invoke: Callable[[str, Identity, dict[str, Any]], Any]) -> None:
    caller, arguments = case.caller(scene), case.arguments(scene)
    if isinstance(case.expect, type):
        with pytest.raises(case.expect) as refused:
            invoke(case.method, caller, arguments)
        assert refused.value.code == case.expect.code
        assert isinstance(refused.value.__cause__, psycopg.Error)
    else:
        assert case.expect(invoke(case.method, caller, arguments))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_sync_client_returns_typed_results_and_raises_the_databases_errors(
    world: World, case: Case
) -> None:
    scene = build_scene(world)
    client = PauseManagementClient(world.conn, identity=Identity.service())

    def invoke(method: str, identity: Identity, arguments: dict[str, Any]) -> Any:
        return getattr(client.as_identity(identity), method)(**arguments)

    check(case, scene, invoke)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_async_client_behaves_like_the_sync_one(isolated_db: Database, case: Case) -> None:
    with isolated_db.connect() as conn:
        scene = build_scene(World(conn))
        conn.commit()

    async def run(method: str, identity: Identity, arguments: dict[str, Any]) -> Any:
        async with AsyncPauseManagementClient(isolated_db.url, identity=identity) as client:
            return await getattr(client, method)(**arguments)

    check(case, scene, lambda m, i, a: asyncio.run(run(m, i, a)))


@pytest.mark.parametrize(
    ("method", "arguments", "field"),
    [
        ("activate_pause", {"mentor_id": "not-a-uuid", "reason": "x"}, "mentor_id"),
        ("activate_pause", {"mentor_id": uuid.uuid4(), "reason": "  "}, "reason"),
        ("activate_pause", {"mentor_id": uuid.uuid4(), "reason": "x" * 501}, "reason"),
        (
            "activate_pause",
            {"mentor_id": uuid.uuid4(), "reason": "x", "expected_return_date": "next week"},
            "expected_return_date",
        ),
        ("activate_pause", {"mentor_id": uuid.uuid4(), "reason": "x", "force": "yes"}, "force"),
        ("lift_pause", {"mentor_id": uuid.uuid4(), "idempotency_key": "k1"}, "idempotency_key"),
        (
            "is_transition_allowed",
            {"current_status": "asleep", "target_status": "active"},
            "current_status",
        ),
    ],
)
def test_bad_arguments_are_refused_before_the_database_is_touched(
    method: str, arguments: dict[str, Any], field: str
) -> None:
    # An unreachable URL: any database access would fail with a connection error instead.
    client = PauseManagementClient(
        "postgresql://nobody@127.0.0.1:1/none", identity=Identity.service()
    )
    with pytest.raises(InvalidInput) as refused:
        getattr(client, method)(**arguments)
    assert refused.value.details["field"] == field


def test_the_client_works_over_a_connection_pool(isolated_db: Database) -> None:
    with isolated_db.connect() as conn:
        scene = build_scene(World(conn))
        conn.commit()
    with ConnectionPool(isolated_db.url, min_size=1, max_size=2, open=True) as pool:
        client = PauseManagementClient(pool, identity=scene.coordinator)
        assert client.get_current_status(scene.active.id).status is MentorStatus.ACTIVE
        client.activate_pause(scene.active.id, "from the pool")
        assert client.get_current_status(scene.active.id).status is MentorStatus.PAUSED


def test_a_url_client_commits_each_call_and_closes_its_connection(isolated_db: Database) -> None:
    with isolated_db.connect() as conn:
        scene = build_scene(World(conn))
        conn.commit()
    with PauseManagementClient(isolated_db.url, identity=scene.coordinator) as client:
        client.activate_pause(scene.active.id, "committed")
        owned = client._connections.owned
    assert owned is not None
    assert owned.closed
    with isolated_db.connect() as conn:
        assert World(conn).status(scene.active) == "paused"
