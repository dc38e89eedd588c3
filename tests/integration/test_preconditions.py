"""Pause preconditions: registered checks that block (or inform about) a manual pause."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from pyproj_rpc.api_errors import Forbidden, PreconditionFailed
from pyproj_rpc.identity import Identity, postgrest_request
from tests.support import Mentor, World, call, refused

# Two checks another feature might register: one blocking, one informational.
CHECKS = """
create schema example_checks;
create table example_checks.sessions_in_progress (mentor_id uuid, session text);
create function example_checks.sessions_in_progress(mentor_id uuid)
  returns setof mentoring.precondition_finding language sql stable
  set search_path = pg_catalog, pg_temp as $$
    select 'session_in_progress', format('session %s is in progress', s.session), true,
           jsonb_build_object('session', s.session)
    from example_checks.sessions_in_progress s
    where s.mentor_id = sessions_in_progress.mentor_id
  $$;
create function example_checks.pending_reimbursements(mentor_id uuid)
  returns setof mentoring.precondition_finding language sql stable
  set search_path = pg_catalog, pg_temp as $$
    select 'reimbursement_pending', 'one reimbursement is pending', false, '{}'::jsonb
  $$;
insert into mentoring.pause_preconditions (name, check_function, description) values
  ('sessions_in_progress', 'example_checks.sessions_in_progress', 'No pause mid-session.'),
  ('pending_reimbursements', 'example_checks.pending_reimbursements', 'FYI only.');
"""


@pytest.fixture
def busy(world: World) -> Callable[[Mentor], None]:
    """Registers the example checks; calling it gives a mentor a session in progress."""
    world.execute(CHECKS)

    def mark(mentor: Mentor) -> None:
        world.execute(
            "insert into example_checks.sessions_in_progress values (%s, 'Tuesday group')",
            (mentor.id,),
        )

    return mark


def test_a_blocking_finding_refuses_the_pause_and_lists_every_finding(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    org = world.organization()
    mentor = org.mentor()
    busy(mentor)
    before = world.counts(mentor)
    with pytest.raises(PreconditionFailed) as refused:
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="tired")
    findings = refused.value.details["findings"]
    assert {(f["check"], f["code"], f["blocking"]) for f in findings} == {
        ("sessions_in_progress", "session_in_progress", True),
        ("pending_reimbursements", "reimbursement_pending", False),
    }
    assert "force" in (refused.value.hint or "")
    assert world.status(mentor) == "active"
    assert world.counts(mentor) == before


def test_a_coordinator_can_force_a_blocked_pause_and_it_is_audited_and_announced(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    org = world.organization()
    coordinator, colleague = org.coordinator(), org.coordinator()
    mentor = org.mentor(coordinators=(coordinator, colleague))
    busy(mentor)
    with pytest.raises(PreconditionFailed):
        call(world.conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="urgent")
    result = call(
        world.conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="urgent", force=True
    )
    event = result["event"]
    assert event["forced"] is True
    assert [f["code"] for f in event["findings"]] == [
        "reimbursement_pending",
        "session_in_progress",
    ]
    assert world.pauses(mentor)[0]["forced"] is True
    [notification] = world.outbox(world.event_id(result))
    assert notification["recipient_id"] == colleague.user_id
    assert notification["payload"]["forced"] is True
    assert notification["payload"]["findings"] == event["findings"]


def test_an_admin_can_force_too(world: World, busy: Callable[[Mentor], None]) -> None:
    org = world.organization()
    mentor = org.mentor()
    busy(mentor)
    result = call(
        world.conn, org.admin, "activate_pause", mentor_id=mentor.id, reason="x", force=True
    )
    assert result["status"] == "paused"


def test_a_mentor_cannot_force(world: World, busy: Callable[[Mentor], None]) -> None:
    org = world.organization()
    mentor = org.mentor()
    busy(mentor)
    with pytest.raises(Forbidden, match="only coordinators and admins can force"):
        call(
            world.conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="x",
            force=True,
        )
    assert world.status(mentor) == "active"


def test_informational_findings_do_not_block_and_travel_with_the_event(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    mentor = world.organization().mentor()
    result = call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    assert result["event"]["forced"] is False
    assert [f["code"] for f in result["event"]["findings"]] == ["reimbursement_pending"]


def test_expiry_for_certification_is_never_blocked(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    mentor = world.organization().mentor(certified=False)
    busy(mentor)
    result = call(
        world.conn, Identity.service(), "auto_expire_for_certification", mentor_id=mentor.id
    )
    assert result["status"] == "expired_cert"
    assert result["event"]["findings"] == []


def test_a_disabled_check_is_not_run(world: World, busy: Callable[[Mentor], None]) -> None:
    mentor = world.organization().mentor()
    busy(mentor)
    world.execute("update mentoring.pause_preconditions set enabled = false")
    result = call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    assert result["event"]["findings"] == []


def test_registering_a_function_of_the_wrong_shape_is_refused(world: World) -> None:
    world.execute(
        "create function pg_temp.not_a_check(uuid) returns int language sql as 'select 1'"
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="precondition_finding"):
        world.execute(
            "insert into mentoring.pause_preconditions (name, check_function, description)"
            " values ('wrong', 'pg_temp.not_a_check', 'x')"
        )


@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_only_the_owner_can_register_checks(world: World, role: str) -> None:
    org = world.organization()
    identity = org.admin if role == "authenticated" else Identity.service()
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        postgrest_request(world.conn, identity) as cur,
    ):
        cur.execute(
            "insert into mentoring.pause_preconditions (name, check_function, description)"
            " values ('sneaky', 'pg_catalog.now', 'x')"
        )


def test_a_check_owned_by_another_role_is_refused_at_registration(world: World) -> None:
    world.execute("create role feature_owner nologin")
    world.execute("create schema other_feature authorization feature_owner")
    world.execute(
        "create function other_feature.check(mentor_id uuid)"
        " returns setof mentoring.precondition_finding language sql stable"
        " set search_path = pg_catalog, pg_temp"
        " as 'select null::mentoring.precondition_finding where false'"
    )
    world.execute("alter function other_feature.check(uuid) owner to feature_owner")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="owned by the owner"):
        world.execute(
            "insert into mentoring.pause_preconditions (name, check_function, description)"
            " values ('other', 'other_feature.check', 'x')"
        )


def test_a_volatile_check_is_refused_at_registration(world: World) -> None:
    world.execute("create schema volatile_checks")
    world.execute(
        "create function volatile_checks.check(mentor_id uuid)"
        " returns setof mentoring.precondition_finding language sql volatile"
        " set search_path = pg_catalog, pg_temp"
        " as 'select null::mentoring.precondition_finding where false'"
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="STABLE"):
        world.execute(
            "insert into mentoring.pause_preconditions (name, check_function, description)"
            " values ('volatile', 'volatile_checks.check', 'x')"
        )


def test_a_check_handed_to_another_owner_after_registration_stops_pauses(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    mentor = world.organization().mentor()
    world.execute("create role takeover nologin")
    world.execute("alter function example_checks.pending_reimbursements(uuid) owner to takeover")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="pending_reimbursements"):
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    assert world.status(mentor) == "active"


@pytest.mark.parametrize(
    "setting",
    ["", "set search_path = ''", "set search_path = public", "set search_path = pg_temp, public"],
    ids=["unset", "empty", "no pg_temp", "pg_temp first"],
)
def test_a_check_that_does_not_search_pg_temp_last_is_refused_at_registration(
    world: World, setting: str
) -> None:
    """It runs as the owner in the caller's session: pg_temp first would run their code."""
    world.execute("create schema loose_checks")
    world.execute(
        "create function loose_checks.check(mentor_id uuid)"
        f" returns setof mentoring.precondition_finding language sql stable {setting}"
        " as 'select null::mentoring.precondition_finding where false'"
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="ending with pg_temp"):
        world.execute(
            "insert into mentoring.pause_preconditions (name, check_function, description)"
            " values ('loose', 'loose_checks.check', 'x')"
        )


def test_a_check_whose_search_path_is_reset_after_registration_stops_pauses(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    mentor = world.organization().mentor()
    world.execute("alter function example_checks.pending_reimbursements(uuid) reset search_path")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="pg_temp"):
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
    assert world.status(mentor) == "active"


def test_status_does_not_offer_a_blocked_pause_to_a_mentor_and_says_why(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    org = world.organization()
    mentor = org.mentor()
    assert call(world.conn, mentor.identity, "get_current_status", mentor_id=mentor.id)[
        "allowed_transitions"
    ] == ["paused"]
    busy(mentor)
    status = call(world.conn, mentor.identity, "get_current_status", mentor_id=mentor.id)
    assert status["allowed_transitions"] == []
    [held] = status["held_back"]
    assert (held["to_status"], held["code"], held["can_force"]) == (
        "paused",
        "precondition_failed",
        False,
    )
    assert {f["code"]: f["blocking"] for f in held["findings"]} == {
        "session_in_progress": True,
        "reimbursement_pending": False,
    }


def test_status_offers_a_blocked_pause_to_a_coordinator_who_can_force_it(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    busy(mentor)
    status = call(world.conn, coordinator, "get_current_status", mentor_id=mentor.id)
    assert status["allowed_transitions"] == ["paused"]
    [held] = status["held_back"]
    assert held["can_force"] is True


def test_status_holds_nothing_back_without_a_blocking_finding(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    org = world.organization()
    mentor = org.mentor()  # only the informational check finds something
    status = call(world.conn, mentor.identity, "get_current_status", mentor_id=mentor.id)
    assert (status["allowed_transitions"], status["held_back"]) == (["paused"], [])


def test_another_organizations_admin_cannot_read_findings_through_the_helper(
    world: World, busy: Callable[[Mentor], None]
) -> None:
    mentor = world.organization().mentor()
    busy(mentor)
    stranger = world.organization().admin
    with (
        refused("mentor_not_found"),
        world.conn.transaction(),
        postgrest_request(world.conn, stranger),
    ):
        world.execute("select mentoring.caller_pause_findings(%s)", (mentor.id,))
