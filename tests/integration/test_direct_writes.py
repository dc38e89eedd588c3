"""Writes that bypass the api functions still obey the state machine and are audited."""

from __future__ import annotations

import json

import psycopg
import pytest

from pyproj_rpc.identity import postgrest_request
from tests.support import World, refused


def test_a_mentor_updating_their_own_status_directly_cannot_expire_themselves(
    world: World,
) -> None:
    mentor = world.organization().mentor(certified=False)
    with refused("forbidden"), postgrest_request(world.conn, mentor.identity) as cur:
        cur.execute(
            "update mentoring.mentors set status = 'expired_cert' where id = %s", (mentor.id,)
        )
    assert world.status(mentor) == "active"


def test_a_direct_pause_without_a_reason_is_refused(world: World) -> None:
    mentor = world.organization().mentor()
    with refused("invalid_input"), postgrest_request(world.conn, mentor.identity) as cur:
        cur.execute("update mentoring.mentors set status = 'paused' where id = %s", (mentor.id,))
    assert world.counts(mentor)["events"] == 0


def test_a_direct_pause_with_its_arguments_is_taken_and_audited_like_the_rpc(
    world: World,
) -> None:
    mentor = world.organization().mentor()
    with postgrest_request(world.conn, mentor.identity) as cur:
        cur.execute(
            "select set_config('mentoring.transition_request', %s, true)",
            (json.dumps({"reason": "direct"}),),
        )
        cur.execute("update mentoring.mentors set status = 'paused' where id = %s", (mentor.id,))
    [event] = world.events(mentor)
    assert (event["actor_kind"], event["reason"]) == ("mentor", "direct")
    assert world.pauses(mentor)[0]["reason"] == "direct"


def test_forcing_through_the_request_setting_is_still_refused_to_a_mentor(world: World) -> None:
    mentor = world.organization().mentor()
    with refused("forbidden"), postgrest_request(world.conn, mentor.identity) as cur:
        cur.execute(
            "select set_config('mentoring.transition_request', %s, true)",
            (json.dumps({"reason": "x", "force": True}),),
        )
        cur.execute("update mentoring.mentors set status = 'paused' where id = %s", (mentor.id,))


def test_a_user_cannot_touch_a_mentor_they_cannot_see(world: World) -> None:
    org = world.organization()
    stranger = org.mentor()
    other = org.mentor()
    with postgrest_request(world.conn, other.identity) as cur:
        cur.execute(
            "update mentoring.mentors set status = 'expired_cert' where id = %s", (stranger.id,)
        )
        assert cur.rowcount == 0
    assert world.status(stranger) == "active"


@pytest.mark.parametrize(
    "statement",
    [
        "update mentoring.mentors set display_name = 'Renamed'",
        "update mentoring.mentors set organization_id = organization_id",
        "update mentoring.mentors set open_pause_id = null",
        "insert into mentoring.pause_periods (mentor_id, start_date, reason, started_by_kind)"
        " select id, current_date, 'x', 'mentor' from mentoring.mentors",
        "insert into mentoring.outbox (event_id, recipient_id, payload)"
        " values (1, gen_random_uuid(), '{}')",
        "delete from mentoring.mentors",
        "select * from mentoring.outbox",
    ],
    ids=["rename", "move", "unlink-pause", "forge-pause", "forge-outbox", "delete", "read-outbox"],
)
def test_authenticated_has_no_other_write_and_no_outbox(world: World, statement: str) -> None:
    org = world.organization()
    org.mentor()
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        postgrest_request(world.conn, org.admin) as cur,
    ):
        cur.execute(statement)


def test_a_dba_update_runs_the_state_machine_and_is_audited_as_the_system(world: World) -> None:
    mentor = world.organization().mentor(status="paused", certified=False)
    world.execute(
        "update mentoring.mentors set status = 'expired_cert' where id = %s", (mentor.id,)
    )
    event = world.events(mentor)[-1]
    assert (event["from_status"], event["to_status"]) == ("paused", "expired_cert")
    assert (event["actor_kind"], event["database_role"]) == ("system", "postgres")
    assert world.pauses(mentor)[0]["end_reason"] == "certification_expired"


def test_a_dba_cannot_reactivate_a_mentor_the_system_never_may(world: World) -> None:
    mentor = world.organization().mentor(status="expired_cert", certified=True)
    with refused("forbidden"):
        world.execute("update mentoring.mentors set status = 'active' where id = %s", (mentor.id,))


def test_a_dba_cannot_move_the_bookkeeping_columns_by_hand(world: World) -> None:
    mentor = world.organization().mentor()
    with refused("invalid_input"):
        world.execute("update mentoring.mentors set status_version = 7 where id = %s", (mentor.id,))


def test_one_update_of_many_mentors_is_checked_and_audited_for_each(world: World) -> None:
    org = world.organization()
    org.second_admin()  # who hears of the admin's changes
    team = [org.mentor() for _ in range(3)]
    with postgrest_request(world.conn, org.admin) as cur:
        cur.execute(
            "select set_config('mentoring.transition_request', %s, true)",
            (json.dumps({"reason": "closing for the summer"}),),
        )
        cur.execute(
            "update mentoring.mentors set status = 'paused' where id = any(%s)",
            ([m.id for m in team],),
        )
        assert cur.rowcount == 3
    for mentor in team:
        [event] = world.events(mentor)
        [pause] = world.pauses(mentor)
        assert (event["actor_kind"], event["reason"], event["pause_id"]) == (
            "admin",
            "closing for the summer",
            pause["id"],
        )
        assert world.counts(mentor) == {"pauses": 1, "events": 1, "outbox": 1}


def test_one_update_of_many_mentors_is_refused_whole_if_one_change_is_not_allowed(
    world: World,
) -> None:
    org = world.organization()
    allowed = org.mentor()
    lapsed = org.mentor(certified=False)
    with refused("certification_valid"), postgrest_request(world.conn, org.admin) as cur:
        cur.execute(
            "update mentoring.mentors set status = 'expired_cert' where id = any(%s)",
            ([allowed.id, lapsed.id],),
        )
    assert (world.status(allowed), world.status(lapsed)) == ("active", "active")
    assert world.counts(allowed)["events"] == world.counts(lapsed)["events"] == 0
