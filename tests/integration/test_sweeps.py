"""The scheduler's sweeps: certification expiry, and reminders for overdue pauses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from pyproj_rpc.api_errors import Forbidden, TransitionNotAllowed, Unauthenticated
from pyproj_rpc.identity import Identity, postgrest_request
from pyproj_rpc.rpc import call as rpc_call
from tests.conftest import Database
from tests.support import (
    Mentor,
    World,
    behind_the_state_machine,
    call,
    in_background,
    wait_until_blocked,
)

SERVICE = Identity.service()


def sweep(conn: psycopg.Connection[Any], identity: Identity = SERVICE) -> int:
    with postgrest_request(conn, identity, path="/rpc/expire_lapsed_certifications") as cur:
        row = cur.execute("select api.expire_lapsed_certifications(500) as n").fetchone()
    assert row is not None
    expired: int = row["n"]
    return expired


def remind(conn: psycopg.Connection[Any]) -> int:
    with postgrest_request(conn, Identity.service()) as cur:
        row = cur.execute("select mentoring.remind_overdue_pauses(500) as n").fetchone()
    assert row is not None
    reminded: int = row["n"]
    return reminded


def test_lapsed_mentors_active_or_paused_are_expired_once_and_certified_ones_untouched(
    world: World,
) -> None:
    org = world.organization()
    lapsed_active = org.mentor(certified=False)
    lapsed_paused = org.mentor(certified=False, status="paused")
    certified = org.mentor()
    certified_paused = org.mentor(status="paused")
    assert sweep(world.conn) == 2
    assert world.status(lapsed_active) == "expired_cert"
    assert world.status(lapsed_paused) == "expired_cert"
    assert world.status(certified) == "active"
    assert world.status(certified_paused) == "paused"
    assert sweep(world.conn) == 0
    for mentor in (lapsed_active, lapsed_paused):
        expiries = [e for e in world.events(mentor) if e["to_status"] == "expired_cert"]
        assert len(expiries) == 1
        assert (expiries[0]["actor_kind"], expiries[0]["reason"]) == (
            "system",
            "certification lapsed",
        )


def test_the_open_pause_of_an_expired_mentor_ends_as_certification_expired(
    world: World,
) -> None:
    mentor = world.organization().mentor(certified=False, status="paused")
    sweep(world.conn)
    [pause] = world.pauses(mentor)
    assert (pause["end_reason"], pause["ended_by_kind"]) == ("certification_expired", "system")


def test_expiry_follows_midnight_in_the_organizations_time_zone(world: World) -> None:
    east = world.organization(time_zone="Pacific/Kiritimati")  # UTC+14
    west = world.organization(time_zone="Etc/GMT+12")  # UTC-12: always a day or two behind
    east_today = world.today(east.id)
    assert world.today(west.id) < east_today
    east_mentor, west_mentor = east.mentor(), west.mentor()
    for mentor in (east_mentor, west_mentor):
        world.execute("delete from mentoring.certifications where mentor_id = %s", (mentor.id,))
        # The same certification: valid up to, not including, the east's today.
        world.certify(mentor, east_today - timedelta(days=300), east_today)
    assert sweep(world.conn) == 1
    assert world.status(east_mentor) == "expired_cert"
    assert world.status(west_mentor) == "active"


def test_the_sweep_reads_only_candidates_through_its_index_not_the_roster(
    world: World,
) -> None:
    org = world.organization()
    for _ in range(3):
        org.mentor(certified=False)
    world.execute(
        "with roster as ("
        "  insert into mentoring.mentors (organization_id, display_name, status)"
        "  select %s, 'Roster ' || n, 'active' from generate_series(1, 3000) n returning id)"
        " insert into mentoring.certifications (mentor_id, valid_during)"
        " select id, daterange(current_date - 30, current_date + 300) from roster",
        (org.id,),
    )
    world.execute("analyze mentoring.mentors")
    before = world.execute(
        "select seq_scan from pg_stat_xact_user_tables where relid = 'mentoring.mentors'::regclass"
    ).fetchone()
    assert sweep(world.conn) == 3
    after = world.execute(
        "select seq_scan from pg_stat_xact_user_tables where relid = 'mentoring.mentors'::regclass"
    ).fetchone()
    assert after == before


def test_a_certification_that_ran_out_since_it_was_checked_is_found_by_its_date(
    world: World,
) -> None:
    """As days pass: certified_through was computed while valid, and is now behind today."""
    mentor = world.organization().mentor(certified=False)  # lapsed today
    yesterday = world.today(mentor.organization_id) - timedelta(days=1)
    world.execute("set constraints all immediate")  # no pending trigger events before ALTER
    world.execute("alter table mentoring.mentors disable trigger compute_certified_through")
    world.execute(
        "update mentoring.mentors set certified_through = %s where id = %s", (yesterday, mentor.id)
    )
    world.execute("alter table mentoring.mentors enable trigger compute_certified_through")
    assert sweep(world.conn) == 1
    assert world.status(mentor) == "expired_cert"


def certified_through(world: World, mentor: Mentor) -> Any:
    return world.execute(
        "select certified_through::text from mentoring.mentors where id = %s", (mentor.id,)
    ).fetchone()[0]


def test_certified_through_follows_every_change_that_moves_it(world: World) -> None:
    org = world.organization()
    mentor, other = org.mentor(), org.mentor()
    today = world.today(org.id)
    last_day = (today + timedelta(days=334)).isoformat()
    assert certified_through(world, mentor) == last_day

    world.certify(mentor, today + timedelta(days=335), None)  # an open-ended renewal
    assert certified_through(world, mentor) == "infinity"

    world.execute(  # the renewal moved to another mentor: both change
        "update mentoring.certifications set mentor_id = %s"
        " where mentor_id = %s and upper_inf(valid_during)",
        (other.id, mentor.id),
    )
    assert certified_through(world, mentor) == last_day
    assert certified_through(world, other) == "infinity"

    world.execute(  # whatever a writer supplies, it is computed
        "update mentoring.mentors set certified_through = '2000-01-01' where id = %s",
        (mentor.id,),
    )
    assert certified_through(world, mentor) == last_day

    world.execute("delete from mentoring.certifications where mentor_id = %s", (mentor.id,))
    assert certified_through(world, mentor) is None


def test_truncating_certifications_leaves_no_one_looking_certified(world: World) -> None:
    mentor = world.organization().mentor()
    world.execute("truncate mentoring.certifications")
    assert certified_through(world, mentor) is None
    assert sweep(world.conn) >= 1
    assert world.status(mentor) == "expired_cert"


def test_a_new_time_zone_is_taken_into_account_at_once(world: World) -> None:
    east = world.organization(time_zone="Pacific/Kiritimati")
    mentor = east.mentor()
    east_today = world.today(east.id)
    world.execute("delete from mentoring.certifications where mentor_id = %s", (mentor.id,))
    world.certify(mentor, east_today, east_today + timedelta(days=365))  # starts today, east
    world.execute(
        "update mentoring.organizations set time_zone = 'Etc/GMT+12' where id = %s", (east.id,)
    )
    assert sweep(world.conn) == 1  # its today moved back, before the certification starts
    assert world.status(mentor) == "expired_cert"


def test_an_admin_who_is_also_a_lapsed_mentor_still_sweeps_the_others(world: World) -> None:
    org = world.organization()
    admin_mentor = org.mentor(certified=False)
    world.seed.staff(org.id, admin_mentor.user_id, "admin")
    other = org.mentor(certified=False)
    assert sweep(world.conn, admin_mentor.identity) == 1
    assert world.status(other) == "expired_cert"
    assert world.status(admin_mentor) == "active"  # left to the system
    assert sweep(world.conn) == 1
    assert world.status(admin_mentor) == "expired_cert"


def test_an_admin_sweeps_only_their_own_organization(world: World) -> None:
    mine, theirs = world.organization(), world.organization()
    my_mentor, their_mentor = mine.mentor(certified=False), theirs.mentor(certified=False)
    assert sweep(world.conn, mine.admin) == 1
    assert world.status(my_mentor) == "expired_cert"
    assert world.status(their_mentor) == "active"


@pytest.mark.parametrize(("who", "error"), [("coordinator", Forbidden), ("anon", Unauthenticated)])
def test_coordinators_and_anonymous_callers_cannot_sweep(
    world: World, who: str, error: type[Exception]
) -> None:
    org = world.organization()
    identity = org.coordinator() if who == "coordinator" else Identity.anon()
    mentor = org.mentor(certified=False)
    with pytest.raises(error):
        rpc_call(world.conn, identity, "expire_lapsed_certifications", {"batch_size": 500})
    assert world.status(mentor) == "active"


@pytest.fixture
def lapsed(isolated_db: Database) -> tuple[Mentor, Mentor, Identity]:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        first = org.mentor(certified=False, coordinators=(coordinator,))
        second = org.mentor(certified=False, coordinators=(coordinator,))
        conn.commit()
    return first, second, coordinator


def test_two_sweeps_at_once_expire_each_mentor_once(
    isolated_db: Database, lapsed: tuple[Mentor, Mentor, Identity]
) -> None:
    with isolated_db.connect() as first, isolated_db.connect() as second:
        with first.transaction():
            done_first = sweep(first)
            done_second = sweep(second)  # skips what the first holds: no wait, no double
        assert done_first + done_second == 2
    with isolated_db.connect() as conn:
        world = World(conn)
        for mentor in lapsed[:2]:
            assert [e["to_status"] for e in world.events(mentor)] == ["expired_cert"]


def test_a_manual_change_waits_for_a_sweep_holding_its_mentor_then_gets_a_409(
    isolated_db: Database, lapsed: tuple[Mentor, Mentor, Identity]
) -> None:
    mentor, _, coordinator = lapsed
    with isolated_db.connect() as sweeper:
        with sweeper.transaction():
            assert sweep(sweeper) == 2
            manual, pid = in_background(
                isolated_db,
                lambda conn: call(
                    conn, coordinator, "activate_pause", mentor_id=mentor.id, reason="x"
                ),
            )
            wait_until_blocked(isolated_db, pid)
        with pytest.raises(TransitionNotAllowed):
            manual.result(timeout=30)


def test_a_sweep_skips_a_mentor_a_manual_change_holds_and_the_next_sweep_takes_them(
    isolated_db: Database, lapsed: tuple[Mentor, Mentor, Identity]
) -> None:
    mentor, other, coordinator = lapsed
    with isolated_db.connect() as manual, isolated_db.connect() as sweeper:
        with manual.transaction():
            call(manual, coordinator, "activate_pause", mentor_id=mentor.id, reason="x")
            assert sweep(sweeper) == 1  # only the other mentor
        assert sweep(sweeper) == 1  # now the paused one
        world = World(sweeper)
        assert [e["to_status"] for e in world.events(mentor)] == ["paused", "expired_cert"]
        assert world.status(other) == "expired_cert"


# -- overdue pauses ---------------------------------------------------------------------


def overdue_pause(world: World, days_overdue: int) -> tuple[Mentor, Identity]:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    today = world.today(org.id)
    call(
        world.conn,
        coordinator,
        "activate_pause",
        mentor_id=mentor.id,
        reason="leave",
        expected_return_date=today + timedelta(days=10),
    )
    # Time passes: the pause started earlier than it did.
    behind_the_state_machine(
        world.conn,
        "update mentoring.pause_periods set start_date = start_date - %s,"
        " expected_return_date = expected_return_date - %s where mentor_id = %s",
        (10 + days_overdue, 10 + days_overdue, mentor.id),
    )
    return mentor, coordinator


def reminders(world: World) -> list[dict[str, Any]]:
    with world.conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select * from mentoring.outbox where kind = 'pause_overdue' order by id"
        ).fetchall()


def test_an_overdue_pause_is_announced_once_to_the_coordinators(world: World) -> None:
    mentor, coordinator = overdue_pause(world, days_overdue=3)
    assert remind(world.conn) == 1
    [reminder] = reminders(world)
    assert reminder["recipient_id"] == coordinator.user_id
    payload = reminder["payload"]
    assert "sequence" not in payload  # that orders status changes only
    [started] = world.events(mentor)
    assert (payload["event_sequence"], payload["hash"]) == (1, started["hash"].hex())
    assert (payload["kind"], payload["mentor"]["id"], payload["days_overdue"]) == (
        "pause_overdue",
        str(mentor.id),
        3,
    )
    assert remind(world.conn) == 0
    assert len(reminders(world)) == 1
    assert world.status(mentor) == "paused"


def test_a_pause_due_back_today_is_not_yet_overdue(world: World) -> None:
    overdue_pause(world, days_overdue=0)
    assert remind(world.conn) == 0


def test_only_the_service_sends_reminders(world: World) -> None:
    _, coordinator = overdue_pause(world, days_overdue=1)
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        postgrest_request(world.conn, coordinator) as cur,
    ):
        cur.execute("select mentoring.remind_overdue_pauses(10)")
