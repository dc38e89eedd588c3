"""No caller's code ever runs with the owner's rights through the temporary schema.

Every role that can open a SQL session may create objects in its own temporary schema
(PUBLIC holds TEMPORARY on the database by default). Functions that searched pg_temp
first for types and relations (``search_path = ''``) would run such objects inside
SECURITY DEFINER code, as the owner. The attacker here shadows every type of pg_catalog
with a domain and every relation of ours, of auth and of pg_catalog with a view, each
running code that reports the role it runs as; then it goes through every entry point.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pyproj_rpc import rpc
from pyproj_rpc.api_errors import PauseManagementError
from pyproj_rpc.identity import Identity, postgrest_request
from tests.conftest import Database
from tests.support import ARGUMENTS, Mentor, World, behind_the_state_machine

SHADOW_EVERYTHING = (Path(__file__).parent / "sql" / "shadow_everything.sql").read_text()
RELAY_LOGIN = "pyproj_test_relay_login"

# A check another feature registers; it runs as the owner before each manual pause.
CHECK = """
create schema shadowing_checks;
create function shadowing_checks.always_informs(mentor_id uuid)
  returns setof mentoring.precondition_finding
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select 'informs', 'an informational finding', false, '{}'::pg_catalog.jsonb
$$;
insert into mentoring.pause_preconditions (name, check_function, description)
values ('always_informs', 'shadowing_checks.always_informs', 'FYI.');
"""


@dataclass(frozen=True)
class Scene:
    """Committed data every attack works on (each attack rolls back what it did)."""

    admin: Identity
    coordinator: Identity
    mentor: Mentor  # active, certified, assigned to the coordinator
    lapsed: Mentor  # active, certification lapsed
    overdue: Mentor  # paused by the coordinator, past the expected return
    expired: Mentor  # expired_cert, certified again
    today: date


@pytest.fixture(scope="module")
def scene(database: Database) -> Iterator[Scene]:
    with database.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        mentor = org.mentor(coordinators=(coordinator,))
        lapsed = org.mentor(certified=False, coordinators=(coordinator,))
        overdue = org.mentor(coordinators=(coordinator,))
        expired = org.mentor(status="expired_cert", coordinators=(coordinator,))
        today = world.today(org.id)
        rpc.call(
            conn,
            coordinator,
            "activate_pause",
            {
                "mentor_id": overdue.id,
                "reason": "overdue",
                "expected_return_date": today + timedelta(days=10),
                "force": False,
                "idempotency_key": None,
            },
        )
        behind_the_state_machine(
            conn,
            "update mentoring.pause_periods"
            " set start_date = start_date - 20, expected_return_date = start_date - 10"
            " where mentor_id = %s",
            (overdue.id,),
        )
        conn.execute(CHECK)
        conn.execute(f"drop role if exists {RELAY_LOGIN}")
        conn.execute(f"create role {RELAY_LOGIN} login noinherit")
        conn.execute(f"grant mentoring_relay to {RELAY_LOGIN}")
        conn.commit()
    yield Scene(org.admin, coordinator, mentor, lapsed, overdue, expired, today)
    with database.connect(autocommit=True) as conn:
        conn.execute(f"drop role if exists {RELAY_LOGIN}")


@dataclass
class Attacker:
    """A session that planted the shadows, and what it saw run."""

    conn: psycopg.Connection[Any]
    role: str
    ran_as: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)

    def sql(self, label: str, statement: str, *params: Any) -> None:
        """Run raw SQL in a savepoint; record 'ok' or the error's code."""
        try:
            with self.conn.transaction():
                self.conn.execute(statement, params or None)
            self.outcomes[label] = "ok"
        except psycopg.Error as exc:
            self.outcomes[label] = exc.sqlstate or "error"

    def call(self, identity: Identity, function: str, **kwargs: Any) -> None:
        """Call ``api.<function>`` as PostgREST would; record 'ok' or the contract code."""
        arguments = {name: kwargs.get(name) for name in ARGUMENTS[function]}
        label = f"{function}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        try:
            rpc.call(self.conn, identity, function, arguments)
            self.outcomes[label] = "ok"
        except PauseManagementError as exc:
            self.outcomes[label] = exc.code
        except psycopg.Error as exc:
            self.outcomes[label] = exc.sqlstate or "error"


@contextmanager
def acting_as(
    conn: psycopg.Connection[Any], role: str, identity: Identity | None
) -> Iterator[None]:
    """As PostgREST sets a request's role and claims; else a plain ``SET ROLE``."""
    if identity is None:
        conn.execute(f"set local role {role}")
        yield
        return
    with postgrest_request(conn, identity):
        yield


def attack(
    database: Database, login: str, role: str, plant_as: Identity | None
) -> Callable[[Callable[[Attacker], None]], Attacker]:
    """Plant the shadows as ``role`` on a fresh session of ``login``, run the moves."""

    def run(moves: Callable[[Attacker], None]) -> Attacker:
        url = database.url.replace("postgresql://", f"postgresql://{login}@", 1)
        with psycopg.connect(url) as conn:
            attacker = Attacker(conn, role)
            conn.add_notice_handler(
                lambda notice: attacker.ran_as.append(
                    (notice.message_primary or "").removeprefix("attacker code ran as ")
                )
            )
            with conn.transaction(force_rollback=True), acting_as(conn, role, plant_as):
                conn.execute(SHADOW_EVERYTHING)
                conn.execute("select set_config('attack.armed', 'on', false)")
                # The shadows are live: the attacker's own cast runs their code, as them.
                attacker.sql("control", "select '2020-01-01'::date")
                moves(attacker)
        return attacker

    return run


def assert_never_ran_as_another_role(attacker: Attacker, succeeded: list[str]) -> None:
    assert attacker.ran_as, "the attacker's code never ran, even in their own session"
    assert set(attacker.ran_as) == {attacker.role}, attacker.ran_as
    failed = {label: attacker.outcomes[label] for label in succeeded}
    assert failed == dict.fromkeys(succeeded, "ok")


def key() -> uuid.UUID:
    return uuid.uuid4()


def test_a_mentor_calling_every_api_function_never_runs_code_as_the_owner(
    database: Database, scene: Scene
) -> None:
    me, mentor = scene.mentor.identity, scene.mentor.id
    pause_key, lift_key = key(), key()

    def moves(a: Attacker) -> None:
        a.call(me, "get_current_status", mentor_id=mentor)
        a.call(me, "activate_pause", mentor_id=mentor, reason="exams", idempotency_key=pause_key)
        a.call(me, "activate_pause", mentor_id=mentor, reason="exams", idempotency_key=pause_key)
        a.call(me, "get_pause_history", mentor_id=mentor)
        a.call(me, "lift_pause", mentor_id=mentor, idempotency_key=lift_key)
        a.call(me, "get_paused_mentors")
        a.call(me, "is_transition_allowed", current_status="active", target_status="paused")
        a.call(me, "auto_expire_for_certification", mentor_id=mentor)
        a.call(me, "expire_lapsed_certifications")
        a.call(me, "reactivate_mentor", mentor_id=mentor)

    attacker = attack(database, "authenticator", "authenticated", me)(moves)
    assert_never_ran_as_another_role(
        attacker,
        [
            f"get_current_status(mentor_id={mentor})",
            f"activate_pause(mentor_id={mentor}, reason=exams, idempotency_key={pause_key})",
            f"lift_pause(mentor_id={mentor}, idempotency_key={lift_key})",
            f"get_pause_history(mentor_id={mentor})",
        ],
    )


def test_a_coordinator_calling_every_api_function_never_runs_code_as_the_owner(
    database: Database, scene: Scene
) -> None:
    coordinator, mentor, expired = scene.coordinator, scene.mentor.id, scene.expired.id
    back = scene.today + timedelta(days=30)

    def moves(a: Attacker) -> None:
        a.call(
            coordinator,
            "activate_pause",
            mentor_id=mentor,
            reason="leave",
            expected_return_date=back,
            force=True,
            idempotency_key=key(),
        )
        a.call(coordinator, "get_paused_mentors")
        a.call(coordinator, "lift_pause", mentor_id=mentor, reason="back")
        a.call(coordinator, "reactivate_mentor", mentor_id=expired, reason="recertified")
        a.call(coordinator, "get_current_status", mentor_id=scene.overdue.id)
        a.call(coordinator, "get_pause_history", mentor_id=scene.overdue.id)

    attacker = attack(database, "authenticator", "authenticated", coordinator)(moves)
    assert_never_ran_as_another_role(
        attacker,
        [
            "get_paused_mentors()",
            f"lift_pause(mentor_id={mentor}, reason=back)",
            f"reactivate_mentor(mentor_id={expired}, reason=recertified)",
        ],
    )


def test_an_admin_expiring_and_sweeping_never_runs_code_as_the_owner(
    database: Database, scene: Scene
) -> None:
    admin, lapsed = scene.admin, scene.lapsed.id

    def moves(a: Attacker) -> None:
        a.call(admin, "auto_expire_for_certification", mentor_id=lapsed)
        a.call(admin, "expire_lapsed_certifications")
        a.call(admin, "activate_pause", mentor_id=scene.mentor.id, reason="admin pause")
        a.call(admin, "reactivate_mentor", mentor_id=scene.mentor.id)

    attacker = attack(database, "authenticator", "authenticated", admin)(moves)
    assert_never_ran_as_another_role(
        attacker,
        [
            f"auto_expire_for_certification(mentor_id={lapsed})",
            "expire_lapsed_certifications()",
            f"activate_pause(mentor_id={scene.mentor.id}, reason=admin pause)",
        ],
    )


def test_the_service_role_sweeping_never_runs_code_as_the_owner(
    database: Database, scene: Scene
) -> None:
    service = Identity.service()

    def moves(a: Attacker) -> None:
        a.call(service, "expire_lapsed_certifications")
        a.call(service, "auto_expire_for_certification", mentor_id=scene.lapsed.id)
        a.call(service, "get_paused_mentors")
        a.call(service, "get_current_status", mentor_id=scene.overdue.id)
        a.sql("remind", "select mentoring.remind_overdue_pauses(10)")
        a.sql("purge keys", "select mentoring.purge_idempotency_keys('0 seconds')")
        a.sql("lease", "select mentoring.take_sweeper_lease(gen_random_uuid(), '1 minute')")

    attacker = attack(database, "authenticator", "service_role", service)(moves)
    assert_never_ran_as_another_role(
        attacker, ["expire_lapsed_certifications()", "remind", "purge keys", "lease"]
    )


@pytest.mark.parametrize("who", ["mentor", "coordinator"])
def test_a_direct_update_of_a_status_never_runs_code_as_the_owner(
    database: Database, scene: Scene, who: str
) -> None:
    identity = scene.mentor.identity if who == "mentor" else scene.coordinator
    request = json.dumps({"reason": "direct", "idempotency_key": str(key())})

    def moves(a: Attacker) -> None:
        a.sql("request", "select set_config('mentoring.transition_request', %s, true)", request)
        a.sql(
            "pause", "update mentoring.mentors set status = 'paused' where id = %s", scene.mentor.id
        )
        a.sql(
            "lift", "update mentoring.mentors set status = 'active' where id = %s", scene.mentor.id
        )

    attacker = attack(database, "authenticator", "authenticated", identity)(moves)
    assert_never_ran_as_another_role(attacker, ["pause", "lift"])


def test_calling_the_idempotency_helpers_directly_never_runs_code_as_the_owner(
    database: Database, scene: Scene
) -> None:
    arguments = json.dumps({"mentor_id": str(scene.mentor.id), "reason": "x"})

    def moves(a: Attacker) -> None:
        a.sql(
            "replay",
            "select mentoring.idempotent_replay('activate_pause', gen_random_uuid(), %s::jsonb)",
            arguments,
        )
        a.sql("record", "select mentoring.idempotent_record(gen_random_uuid(), '{}'::jsonb)")

    attacker = attack(database, "authenticator", "authenticated", scene.mentor.identity)(moves)
    assert_never_ran_as_another_role(attacker, [])


def test_the_relay_role_calling_every_outbox_function_never_runs_code_as_the_owner(
    database: Database, scene: Scene
) -> None:
    def moves(a: Attacker) -> None:
        a.sql("claim", "select * from mentoring.claim_outbox(10, '1 minute')")
        a.sql(
            "fail",
            "select mentoring.outbox_failed(o.id, o.claim_id, 'nope', now() + interval '1 hour')"
            " from mentoring.outbox o where o.claim_id is not null limit 1",
        )
        a.sql("claim again", "select * from mentoring.claim_outbox(10, '1 minute')")
        a.sql(
            "release",
            "select mentoring.outbox_release(o.claim_id, array[o.id])"
            " from mentoring.outbox o where o.claim_id is not null limit 1",
        )
        a.sql(
            "deliver",
            "select mentoring.outbox_delivered(array(select o.id from mentoring.outbox o))",
        )
        a.sql("requeue", "select mentoring.outbox_requeue()")
        a.sql("purge", "select mentoring.outbox_purge_delivered('0 seconds')")
        a.sql("stats", "select * from mentoring.outbox_stats()")

    attacker = attack(database, RELAY_LOGIN, "mentoring_relay", None)(moves)
    assert_never_ran_as_another_role(
        attacker, ["claim", "fail", "claim again", "release", "deliver", "requeue", "stats"]
    )
