"""Pause records: what a pause stores, what it refuses, and the invariants behind it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from pyproj_rpc.api_errors import InvalidInput
from tests.conftest import Database
from tests.support import World, call, refused


def test_a_pause_records_its_start_return_date_trimmed_reason_and_starter(world: World) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    today = world.today(org.id)
    call(
        world.conn,
        coordinator,
        "activate_pause",
        mentor_id=mentor.id,
        reason="  surgery  ",
        expected_return_date=today + timedelta(days=30),
    )
    [pause] = world.pauses(mentor)
    assert pause["start_date"] == today
    assert pause["expected_return_date"] == today + timedelta(days=30)
    assert pause["reason"] == "surgery"
    assert (pause["started_by"], pause["started_by_kind"]) == (coordinator.user_id, "coordinator")
    assert pause["ended_at"] is None


@pytest.mark.parametrize(
    ("reason", "field"),
    [(None, "reason"), ("", "reason"), ("   ", "reason"), ("x" * 501, "reason")],
    ids=["missing", "empty", "blank", "too-long"],
)
def test_a_pause_without_a_proper_reason_is_refused_and_changes_nothing(
    world: World, reason: str | None, field: str
) -> None:
    org = world.organization()
    mentor = org.mentor()
    before = world.counts(mentor)
    with pytest.raises(InvalidInput) as refused:
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason=reason)
    assert refused.value.details["field"] == field
    assert world.status(mentor) == "active"
    assert world.counts(mentor) == before


def test_a_reason_of_exactly_500_characters_is_accepted(world: World) -> None:
    mentor = world.organization().mentor()
    call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x" * 500)
    assert world.pauses(mentor)[0]["reason"] == "x" * 500


@pytest.mark.parametrize("days", [0, -1, 366], ids=["today", "yesterday", "366-days"])
def test_an_expected_return_not_after_the_start_or_beyond_a_year_is_refused(
    world: World, days: int
) -> None:
    org = world.organization()
    mentor = org.mentor()
    today = world.today(org.id)
    with pytest.raises(InvalidInput) as refused:
        call(
            world.conn,
            mentor.identity,
            "activate_pause",
            mentor_id=mentor.id,
            reason="trip",
            expected_return_date=today + timedelta(days=days),
        )
    assert refused.value.details["field"] == "expected_return_date"
    assert world.status(mentor) == "active"


def test_an_expected_return_exactly_a_year_later_is_accepted(world: World) -> None:
    org = world.organization()
    mentor = org.mentor()
    today = world.today(org.id)
    call(
        world.conn,
        mentor.identity,
        "activate_pause",
        mentor_id=mentor.id,
        reason="sabbatical",
        expected_return_date=today + timedelta(days=365),
    )
    assert world.pauses(mentor)[0]["expected_return_date"] == today + timedelta(days=365)


def test_lifting_records_when_who_and_why_the_pause_ended(world: World) -> None:
    org = world.organization()
    mentor = org.mentor(status="paused")
    call(world.conn, org.admin, "lift_pause", mentor_id=mentor.id, reason=" feeling better ")
    [pause] = world.pauses(mentor)
    assert pause["end_reason"] == "lifted"
    assert pause["end_note"] == "feeling better"
    assert pause["end_date"] == world.today(org.id)
    assert (pause["ended_by"], pause["ended_by_kind"]) == (org.admin.user_id, "admin")


def test_a_lift_note_over_500_characters_is_refused(world: World) -> None:
    org = world.organization()
    mentor = org.mentor(status="paused")
    with pytest.raises(InvalidInput):
        call(world.conn, org.admin, "lift_pause", mentor_id=mentor.id, reason="y" * 501)
    assert world.status(mentor) == "paused"


def test_the_pause_date_is_the_organizations_local_date(world: World) -> None:
    east = world.organization(time_zone="Pacific/Kiritimati")  # UTC+14
    west = world.organization(time_zone="Etc/GMT+12")  # UTC-12
    today_east, today_west = world.today(east.id), world.today(west.id)
    assert today_east - today_west in (timedelta(days=1), timedelta(days=2))
    for org, today in ((east, today_east), (west, today_west)):
        mentor = org.mentor()
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="away")
        assert world.pauses(mentor)[0]["start_date"] == today


def test_an_unknown_time_zone_is_refused(world: World) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="time_zone_is_known"):
        world.organization(time_zone="Mars/Olympus_Mons")


def test_a_mentor_can_never_have_two_open_pauses(world: World) -> None:
    mentor = world.organization().mentor(status="paused")
    with pytest.raises(psycopg.errors.UniqueViolation, match="one_open_per_mentor"):
        world.execute(
            "insert into mentoring.pause_periods (mentor_id, start_date, reason, started_by_kind)"
            " values (%s, current_date, 'x', 'system')",
            (mentor.id,),
        )


def commit_fails(conn: psycopg.Connection[Any], statement: str, *params: Any) -> str:
    """Run a statement that passes, then return why its commit failed."""
    conn.execute(statement, params)
    with pytest.raises(psycopg.Error) as failed:
        conn.commit()
    return str(failed.value)


def test_an_open_pause_on_an_active_mentor_is_refused_at_commit(isolated_db: Database) -> None:
    with isolated_db.connect() as conn:
        mentor = World(conn).organization().mentor()
        conn.commit()
        message = commit_fails(
            conn,
            "insert into mentoring.pause_periods (mentor_id, start_date, reason, started_by_kind)"
            " values (%s, current_date, 'stray', 'system')",
            mentor.id,
        )
    assert "open_pause_is_the_mentors" in message


CLOSE_BEHIND_ITS_BACK = (
    "update mentoring.pause_periods set ended_at = clock_timestamp(), end_date = current_date,"
    " end_reason = 'lifted', ended_by_kind = 'system' where mentor_id = %s"
)


def test_closing_the_pause_of_a_paused_mentor_behind_its_back_is_refused(world: World) -> None:
    mentor = world.organization().mentor(status="paused")
    with refused("forbidden") as errors:
        world.execute(CLOSE_BEHIND_ITS_BACK, (mentor.id,))
    assert "only through the state machine" in errors[0].message


def test_closing_it_with_the_guard_disabled_is_still_refused_at_commit(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        mentor = World(conn).organization().mentor(status="paused")
        conn.commit()
        conn.execute(
            "alter table mentoring.pause_periods disable trigger changed_by_the_state_machine_only"
        )
        message = commit_fails(conn, CLOSE_BEHIND_ITS_BACK, mentor.id)
    assert "open_pause_is_open_and_own" in message


def test_a_new_mentor_cannot_start_paused(world: World) -> None:
    org = world.organization()
    with refused("invalid_input"):
        world.execute(
            "insert into mentoring.mentors (organization_id, display_name, status)"
            " values (%s, 'New', 'paused')",
            (org.id,),
        )


def test_a_new_active_mentor_without_a_certification_is_refused_at_commit(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        org = World(conn).organization()
        conn.commit()
        message = commit_fails(
            conn,
            "insert into mentoring.mentors (organization_id, display_name, status)"
            " values (%s, 'Uncertified', 'active')",
            org.id,
        )
    assert "certification_lapsed" in message


def test_a_new_active_mentor_certified_in_the_same_transaction_is_accepted(
    isolated_db: Database,
) -> None:
    with isolated_db.connect() as conn:
        world = World(conn)
        mentor = world.organization().mentor()  # mentor first, certification after
        conn.commit()
        assert world.status(mentor) == "active"
