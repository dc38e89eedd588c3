"""The roster: writes as the owner through the tables' rules, an import that is idempotent,
refusals that change nothing, and certification changes that leave statuses to the
state machine and the sweep."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from pyproj_rpc import rpc
from pyproj_rpc.identity import Identity
from pyproj_rpc.roster import Roster, RosterError, UserRef, Validity, connect, run_change
from pyproj_rpc.roster_import import COLUMNS, import_roster
from tests.conftest import Database
from tests.support import in_background, wait_until_blocked

EXAMPLE = Path(__file__).parents[2] / "examples" / "roster.csv"
TABLES = (
    "auth.users",
    "mentoring.organizations",
    "mentoring.organization_staff",
    "mentoring.mentors",
    "mentoring.mentor_coordinators",
    "mentoring.certifications",
    "mentoring.status_events",
)


def snapshot(database: Database) -> dict[str, list[str]]:
    """Every roster table's rows, in a stable order."""
    with database.connect() as conn:
        return {
            table: sorted(
                row[0]
                for row in conn.execute(
                    sql.SQL("select t::text from {} t").format(sql.Identifier(*table.split(".")))
                )
            )
            for table in TABLES
        }


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = [",".join(COLUMNS)]
    lines += [",".join(row.get(column, "") for column in COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def status_of(database: Database, mentor_name: str) -> str:
    with database.connect() as conn:
        row = conn.execute(
            "select status::text from mentoring.mentors where display_name = %s", (mentor_name,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_importing_the_example_twice_creates_everything_once(
    isolated_db: Database,
) -> None:
    first = import_roster(isolated_db.url, EXAMPLE, create_users=True)
    assert not first.refused, [r.to_dict() for r in first.rows]
    after_first = snapshot(isolated_db)
    second = import_roster(isolated_db.url, EXAMPLE, create_users=True)
    assert {row.action for row in second.rows} == {"unchanged"}
    assert snapshot(isolated_db) == after_first
    assert len(after_first["mentoring.mentors"]) == 3
    assert len(after_first["mentoring.mentor_coordinators"]) == 4
    # A certification covering today: active. None: expired_cert, and a renewal recorded
    # afterwards leaves it so (a coordinator reactivates; no status was written).
    assert status_of(isolated_db, "Noor") == "active"
    assert status_of(isolated_db, "Pia") == "expired_cert"
    assert after_first["mentoring.status_events"] == []


def test_the_json_example_holds_the_same_roster_as_the_csv(isolated_db: Database) -> None:
    report = import_roster(isolated_db.url, EXAMPLE.with_suffix(".json"), create_users=True)
    assert report.counts() == {"created": 12}
    again = import_roster(isolated_db.url, EXAMPLE, create_users=True)
    assert {row.action for row in again.rows} == {"unchanged"}


def test_a_changed_row_is_updated_in_place(isolated_db: Database, tmp_path: Path) -> None:
    org = {"kind": "organization", "organization": "Lakeside", "time_zone": "UTC"}
    coordinator = {
        "kind": "staff",
        "organization": "Lakeside",
        "email": "riley@lakeside.example",
        "role": "coordinator",
    }
    mentor = {
        "kind": "mentor",
        "organization": "Lakeside",
        "name": "Noor",
        "email": "noor@lakeside.example",
        "valid_from": "2020-01-01",
        "valid_until": "2099-12-31",
    }
    import_roster(
        isolated_db.url,
        write_csv(tmp_path / "a.csv", [org, coordinator, mentor]),
        create_users=True,
    )
    changed = [
        org | {"time_zone": "Europe/Berlin"},
        coordinator | {"role": "admin"},
        mentor | {"name": "Noor A.", "valid_until": "2100-06-30"},
    ]
    report = import_roster(isolated_db.url, write_csv(tmp_path / "b.csv", changed))
    assert [row.action for row in report.rows] == ["updated", "updated", "updated"]
    listing = listing_of(isolated_db)["organizations"][0]
    assert listing["time_zone"] == "Europe/Berlin"
    assert listing["staff"][0]["role"] == "admin"
    (noor,) = listing["mentors"]
    assert noor["display_name"] == "Noor A."
    assert [c["valid_until"] for c in noor["certifications"]] == [date(2100, 6, 30)]


def listing_of(database: Database) -> dict[str, Any]:
    with connect(database.url) as conn:
        return Roster(conn).listing()


def test_a_malformed_row_applies_nothing_of_the_file(isolated_db: Database, tmp_path: Path) -> None:
    before = snapshot(isolated_db)
    rows = [
        {"kind": "organization", "organization": "Lakeside"},
        {"kind": "mentor", "organization": "Lakeside", "name": "Noor", "valid_from": "someday"},
        {"kind": "staff", "organization": "Lakeside", "role": "boss", "email": "a@b.example"},
    ]
    report = import_roster(isolated_db.url, write_csv(tmp_path / "bad.csv", rows))
    assert report.invalid
    assert not report.applied
    assert [(r.action, r.code) for r in report.rows] == [
        ("not applied", None),
        ("invalid", "invalid_input"),
        ("invalid", "invalid_input"),
    ]
    assert "valid_from" in (report.rows[1].message or "")
    assert snapshot(isolated_db) == before


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("kind,colour\norganization,red\n", "unknown column(s) colour"),
        ("organization,time_zone\nLakeside,UTC\n", "header with 'kind'"),
        ("kind,organization\norganization,Lakeside,extra\n", "more cells than the header"),
    ],
)
def test_a_file_that_is_not_a_roster_is_refused_whole(
    isolated_db: Database, tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(content)
    with pytest.raises(RosterError) as refused:
        import_roster(isolated_db.url, path)
    assert refused.value.code == "invalid_file"
    assert fragment in refused.value.message


def test_a_refused_row_changes_nothing_and_the_others_apply(
    isolated_db: Database, tmp_path: Path
) -> None:
    rows = [
        {"kind": "organization", "organization": "Lakeside"},
        # a staff member nobody created (no --create-users): refused
        {
            "kind": "staff",
            "organization": "Lakeside",
            "role": "coordinator",
            "email": "x@y.example",
        },
        {"kind": "mentor", "organization": "Lakeside", "name": "Pia"},
        {
            "kind": "assignment",
            "organization": "Lakeside",
            "mentor": "Pia",
            "coordinator": "x@y.example",
        },
        {"kind": "mentor", "organization": "Nowhere", "name": "Pia"},
    ]
    report = import_roster(isolated_db.url, write_csv(tmp_path / "r.csv", rows))
    assert [(r.action, r.code) for r in report.rows] == [
        ("created", None),
        ("refused", "user_not_found"),
        ("created", None),
        ("refused", "user_not_found"),
        ("refused", "organization_not_found"),
    ]
    after = snapshot(isolated_db)
    assert len(after["mentoring.organizations"]) == 1
    assert after["auth.users"] == []
    assert after["mentoring.organization_staff"] == []
    assert len(after["mentoring.mentors"]) == 1


def test_a_dry_run_reports_the_changes_and_makes_none(isolated_db: Database) -> None:
    before = snapshot(isolated_db)
    report = import_roster(isolated_db.url, EXAMPLE, create_users=True, dry_run=True)
    assert not report.applied
    assert not report.refused
    assert report.counts() == {"created": 12}
    assert snapshot(isolated_db) == before


def test_creating_users_is_refused_where_supabase_auth_owns_them(isolated_db: Database) -> None:
    with isolated_db.connect() as conn:
        conn.execute("alter table auth.users add column encrypted_password text")
        conn.commit()
    run_change(isolated_db.url, Roster.create_organization, "Lakeside", "UTC")
    before = snapshot(isolated_db)
    with pytest.raises(RosterError) as refused:
        run_change(
            isolated_db.url,
            lambda r: r.ensure_staff(
                r.organization("Lakeside"), UserRef(email="a@b.example"), "admin", create_user=True
            ),
        )
    assert refused.value.code == "auth_is_supabase"
    assert snapshot(isolated_db) == before


def test_a_role_that_does_not_own_the_tables_is_refused(isolated_db: Database) -> None:
    with connect(isolated_db.url) as conn:
        conn.execute("set role service_role")
        with pytest.raises(RosterError) as refused:
            Roster(conn).check_ready()
    assert refused.value.code == "not_the_owner"
    assert refused.value.details["connected_as"] == "service_role"


def test_an_unmigrated_database_is_refused(empty_db: Database) -> None:
    with connect(empty_db.url) as conn, pytest.raises(RosterError) as refused:
        Roster(conn).check_ready()
    assert refused.value.code == "not_migrated"


def mentor_setup(database: Database, validity: Validity) -> tuple[Any, Any, Any]:
    """An organization, a coordinator, and a mentor with this certification."""
    org = run_change(database.url, Roster.create_organization, "Lakeside", "UTC")[0]

    def people(r: Roster) -> list[Any]:
        lakeside = r.organization("Lakeside")
        staff = r.ensure_staff(
            lakeside, UserRef(email="c@l.example"), "coordinator", create_user=True
        )
        mentor = r.add_mentor(
            lakeside, "Noor", UserRef(email="n@l.example"), validity, create_user=True
        )
        return staff + mentor

    outcomes = run_change(database.url, people)
    coordinator = next(o for o in outcomes if o.kind == "staff")
    mentor = next(o for o in outcomes if o.kind == "mentor")
    certification = next(o for o in outcomes if o.kind == "certification")
    run_change(database.url, Roster.assign, UUID(mentor.id), UserRef(user_id=UUID(coordinator.id)))
    return org, mentor, certification


def test_ending_a_certification_leaves_the_status_to_the_expiry_sweep(
    isolated_db: Database,
) -> None:
    _, mentor, certification = mentor_setup(isolated_db, Validity(date(2020, 1, 1), None))
    assert status_of(isolated_db, "Noor") == "active"
    ended = run_change(isolated_db.url, Roster.end_certification, UUID(certification.id), None)
    assert ended[0].action == "updated"
    assert "expiry sweep" in (ended[0].note or "")
    assert status_of(isolated_db, "Noor") == "active"  # not flipped by the roster
    with isolated_db.connect() as conn:
        through = conn.execute(
            "select certified_through from mentoring.mentors where id = %s", (mentor.id,)
        ).fetchone()
        assert through == (None,)  # the sweep's index sees the mentor as lapsed
        expired = rpc.call(
            conn, Identity.service(), "expire_lapsed_certifications", {"batch_size": 10}
        )
        conn.commit()
    assert expired == [1]
    assert status_of(isolated_db, "Noor") == "expired_cert"


def test_a_recertified_mentor_stays_expired_until_a_coordinator_reactivates(
    isolated_db: Database,
) -> None:
    lapsed = Validity(date(2020, 1, 1), date(2020, 12, 31))
    _, mentor, _ = mentor_setup(isolated_db, lapsed)
    assert status_of(isolated_db, "Noor") == "expired_cert"
    today = date.today()
    recorded = run_change(
        isolated_db.url,
        Roster.record_certification,
        UUID(mentor.id),
        Validity(today - timedelta(days=1), today + timedelta(days=400)),
    )
    assert "reactivates" in (recorded[0].note or "")
    assert status_of(isolated_db, "Noor") == "expired_cert"
    with isolated_db.connect() as conn:
        coordinator = conn.execute(
            "select id from auth.users where email = 'c@l.example'"
        ).fetchone()
        assert coordinator is not None
        result = rpc.call(
            conn,
            Identity.user(coordinator[0]),
            "reactivate_mentor",
            {"mentor_id": mentor.id, "reason": "Recertified", "idempotency_key": None},
        )
        conn.commit()
    assert result[0]["status"] == "active"


def test_a_new_mentor_is_active_only_with_a_certification_covering_today(
    isolated_db: Database,
) -> None:
    future = Validity(date.today() + timedelta(days=30), None)
    mentor_setup(isolated_db, future)
    assert status_of(isolated_db, "Noor") == "expired_cert"


def test_extending_or_ending_the_wrong_way_is_refused(isolated_db: Database) -> None:
    _, _, certification = mentor_setup(isolated_db, Validity(date(2020, 1, 1), date(2099, 1, 1)))
    cert_id = UUID(certification.id)
    with pytest.raises(RosterError) as shorter:
        run_change(isolated_db.url, Roster.extend_certification, cert_id, date(2098, 1, 1))
    assert shorter.value.code == "not_an_extension"
    with pytest.raises(RosterError) as before_start:
        run_change(isolated_db.url, Roster.end_certification, cert_id, date(2019, 1, 1))
    assert before_start.value.code == "not_an_end"


def test_a_coordinator_must_be_staff_of_the_mentors_organization(isolated_db: Database) -> None:
    _, mentor, _ = mentor_setup(isolated_db, Validity(date(2020, 1, 1), None))
    run_change(isolated_db.url, Roster.create_organization, "Elsewhere", "UTC")
    run_change(
        isolated_db.url,
        lambda r: r.ensure_staff(
            r.organization("Elsewhere"),
            UserRef(email="o@e.example"),
            "coordinator",
            create_user=True,
        ),
    )
    with pytest.raises(RosterError) as refused:
        run_change(isolated_db.url, Roster.assign, UUID(mentor.id), UserRef(email="o@e.example"))
    assert refused.value.code == "not_staff"


def test_unassigning_removes_the_coordinator_and_a_repeat_is_unchanged(
    isolated_db: Database,
) -> None:
    _, mentor, _ = mentor_setup(isolated_db, Validity(date(2020, 1, 1), None))
    who = UserRef(email="c@l.example")
    removed = run_change(isolated_db.url, Roster.unassign, UUID(mentor.id), who)
    again = run_change(isolated_db.url, Roster.unassign, UUID(mentor.id), who)
    assert (removed[0].action, again[0].action) == ("removed", "unchanged")
    assert listing_of(isolated_db)["organizations"][0]["mentors"][0]["coordinators"] == []


def test_a_database_refusal_keeps_the_psycopg_error_as_its_cause(isolated_db: Database) -> None:
    with connect(isolated_db.url) as conn:
        roster = Roster(conn)
        with pytest.raises(RosterError) as refused, roster.change():
            conn.execute("insert into mentoring.organizations (name) values ('  padded  ')")
    assert refused.value.code == "invalid_input"
    assert isinstance(refused.value.__cause__, psycopg.errors.CheckViolation)


def test_a_certification_change_waits_for_a_transition_in_flight(isolated_db: Database) -> None:
    _, mentor, certification = mentor_setup(isolated_db, Validity(date(2020, 1, 1), None))
    with isolated_db.connect() as conn:
        coordinator = conn.execute(
            "select id from auth.users where email = 'c@l.example'"
        ).fetchone()
    assert coordinator is not None

    def end_it(conn: psycopg.Connection[Any]) -> Any:
        roster = Roster(conn)
        with roster.change():
            return roster.end_certification(UUID(certification.id))

    with isolated_db.connect() as holder:
        with holder.transaction():
            rpc.call(
                holder,
                Identity.user(coordinator[0]),
                "activate_pause",
                {
                    "mentor_id": mentor.id,
                    "reason": "Exams",
                    "expected_return_date": None,
                    "force": None,
                    "idempotency_key": None,
                },
            )
            later, pid = in_background(isolated_db, end_it)
            wait_until_blocked(isolated_db, pid)  # on the mentor's row, locked by the pause
        ended = later.result(timeout=30)
    assert ended.action == "updated"
    assert status_of(isolated_db, "Noor") == "paused"  # the pause stands; the sweep expires later
