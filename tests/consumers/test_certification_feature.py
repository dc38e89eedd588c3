"""The certification-management feature, as a consumer of pause management.

That feature writes ``mentoring.certifications`` as the tables' owner (docs/integration.md:
record, extend, end; never a status), relies on the expiry sweep to take lapsed mentors
out of service, on the outbox to tell coordinators, and on a coordinator reactivating a
mentor it recertified. These tests write exactly as it does and check what it relies on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from pyproj_rpc import rpc, scheduler
from pyproj_rpc.api_errors import CertificationLapsed, Forbidden
from pyproj_rpc.identity import Identity
from tests.support import Mentor, Organization, World, call

SERVICE = Identity.service()


@dataclass
class CertificationFeature:
    """The feature's own writes, as the tables' owner, in the caller's transaction."""

    conn: psycopg.Connection[Any]

    def record(self, mentor: Mentor, first_day: date, last_day: date | None) -> uuid.UUID:
        """A certification valid from ``first_day`` through ``last_day`` (None: no end)."""
        row = self.conn.execute(
            "insert into mentoring.certifications (mentor_id, valid_during, name)"
            " values (%s, daterange(%s, %s), 'Peer mentor training') returning id",
            (mentor.id, first_day, None if last_day is None else last_day + timedelta(days=1)),
        ).fetchone()
        assert row is not None
        certification_id: uuid.UUID = row[0]
        return certification_id

    def extend(self, certification_id: uuid.UUID, last_day: date | None) -> None:
        self.conn.execute(
            "update mentoring.certifications"
            " set valid_during = daterange(lower(valid_during), %s) where id = %s",
            (None if last_day is None else last_day + timedelta(days=1), certification_id),
        )

    def end(self, certification_id: uuid.UUID, last_day: date) -> None:
        self.conn.execute(
            "update mentoring.certifications"
            " set valid_during = daterange(lower(valid_during), %s) where id = %s",
            (last_day + timedelta(days=1), certification_id),
        )

    def end_all(self, mentor: Mentor, last_day: date) -> None:
        """End every certification of the mentor after ``last_day`` (what 'revoke' does)."""
        for (certification_id,) in self.conn.execute(
            "select id from mentoring.certifications where mentor_id = %s", (mentor.id,)
        ).fetchall():
            self.end(certification_id, last_day)


@pytest.fixture
def feature(world: World) -> CertificationFeature:
    return CertificationFeature(world.conn)


def yesterday(org: Organization) -> date:
    return org.world.today(org.id) - timedelta(days=1)


def sweep_as_service_role(conn: psycopg.Connection[Any]) -> int:
    [expired] = rpc.call(conn, SERVICE, "expire_lapsed_certifications", {"batch_size": 500})
    count: int = expired
    return count


def sweep_as_scheduler(conn: psycopg.Connection[Any]) -> int:
    report = scheduler.sweep_once(conn, batch_size=2)  # small batches: the sweep loops
    assert report.ran
    return report.expired


SWEEPS: dict[str, Callable[[psycopg.Connection[Any]], int]] = {
    "api.expire_lapsed_certifications": sweep_as_service_role,
    "scheduler.sweep_once": sweep_as_scheduler,
}


def uncertified_but_in_service(conn: psycopg.Connection[Any]) -> list[uuid.UUID]:
    """Every mentor of the database active or paused without a certification today."""
    rows = conn.execute(
        "select m.id from mentoring.mentors m"
        " where m.status <> 'expired_cert' and not exists ("
        "   select from mentoring.certifications c where c.mentor_id = m.id"
        "   and c.valid_during @> mentoring.organization_today(m.organization_id))"
    ).fetchall()
    return [row[0] for row in rows]


# -- recording, extending, ending ----------------------------------------------------------


def test_ending_a_certification_leaves_the_mentor_active_until_the_sweep_expires_them(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    feature.end_all(mentor, yesterday(org))
    assert world.status(mentor) == "active"
    shown = call(world.conn, coordinator, "get_current_status", mentor_id=mentor.id)
    assert shown["certification"] == {"certified": False, "valid_until": None}
    assert sweep_as_service_role(world.conn) == 1
    assert world.status(mentor) == "expired_cert"
    [event] = [e for e in world.events(mentor) if e["to_status"] == "expired_cert"]
    assert (event["actor_kind"], event["reason"]) == ("system", "certification lapsed")


def test_a_certification_that_ends_in_the_future_keeps_the_mentor_in_service(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,))
    last_day = world.today(org.id) + timedelta(days=10)
    feature.end_all(mentor, last_day)
    assert sweep_as_service_role(world.conn) == 0
    assert world.status(mentor) == "active"
    shown = call(world.conn, coordinator, "get_current_status", mentor_id=mentor.id)
    assert shown["certification"] == {"certified": True, "valid_until": last_day.isoformat()}


def test_a_certification_ending_today_has_lapsed_by_the_sweep_of_today(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    mentor = org.mentor()
    feature.end_all(mentor, yesterday(org))  # its last day was yesterday: lapsed today
    assert sweep_as_service_role(world.conn) == 1
    assert world.status(mentor) == "expired_cert"


def test_extending_an_ended_certification_before_the_sweep_keeps_the_mentor_active(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    mentor = org.mentor(certified=False)
    [(certification_id,)] = world.execute(
        "select id from mentoring.certifications where mentor_id = %s", (mentor.id,)
    ).fetchall()
    feature.extend(certification_id, world.today(org.id) + timedelta(days=365))
    assert sweep_as_service_role(world.conn) == 0
    assert world.status(mentor) == "active"
    feature.extend(certification_id, None)  # until further notice
    assert sweep_as_service_role(world.conn) == 0
    assert world.status(mentor) == "active"


def test_a_back_to_back_renewal_counts_as_one_certification(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    mentor = org.mentor()
    today = world.today(org.id)
    feature.end_all(mentor, yesterday(org))
    feature.record(mentor, today, today + timedelta(days=365))
    assert sweep_as_service_role(world.conn) == 0
    assert world.status(mentor) == "active"


def test_recording_a_certification_for_a_paused_mentor_lets_their_pause_be_lifted(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    coordinator = org.coordinator()
    mentor = org.mentor(coordinators=(coordinator,), status="paused", certified=False)
    with pytest.raises(CertificationLapsed):
        call(world.conn, coordinator, "lift_pause", mentor_id=mentor.id)
    feature.record(mentor, world.today(org.id), None)
    result = call(world.conn, coordinator, "lift_pause", mentor_id=mentor.id, reason="renewed")
    assert (result["previous_status"], result["status"]) == ("paused", "active")


# -- the expiry sweep ----------------------------------------------------------------------


@pytest.mark.parametrize("sweep", sorted(SWEEPS))
def test_the_sweep_expires_exactly_the_lapsed_mentors_active_and_paused(
    world: World, feature: CertificationFeature, sweep: str
) -> None:
    org = world.organization()
    today = world.today(org.id)
    already = org.mentor(certified=False, status="expired_cert", name="Already expired")
    lapsed = [
        org.mentor(certified=False, name="Lapsed active"),
        org.mentor(certified=False, status="paused", name="Lapsed paused"),
        org.mentor(name="Ended yesterday"),
    ]
    kept = [
        org.mentor(name="Certified"),
        org.mentor(status="paused", name="Certified, paused"),
        org.mentor(name="Ends today"),
        org.mentor(name="Renewed back to back"),
    ]
    # the feature's writes, once the staffing feature created the mentors
    feature.end_all(lapsed[2], yesterday(org))
    feature.end_all(kept[2], today)
    feature.end_all(kept[3], yesterday(org))
    feature.record(kept[3], today, None)
    before = {mentor.id: world.counts(mentor) for mentor in (*kept, already)}

    assert SWEEPS[sweep](world.conn) == len(lapsed)

    assert {m.id: world.status(m) for m in lapsed} == {m.id: "expired_cert" for m in lapsed}
    assert [world.status(m) for m in kept] == ["active", "paused", "active", "active"]
    assert world.status(already) == "expired_cert"
    assert {mentor.id: world.counts(mentor) for mentor in (*kept, already)} == before
    assert uncertified_but_in_service(world.conn) == []
    assert SWEEPS[sweep](world.conn) == 0  # a second run finds nothing left


def test_a_lapsed_mentors_open_pause_ends_as_certification_expired(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    mentor = org.mentor(status="paused")
    feature.end_all(mentor, yesterday(org))
    sweep_as_service_role(world.conn)
    [pause] = world.pauses(mentor)
    assert (pause["end_reason"], pause["ended_by_kind"]) == ("certification_expired", "system")


def test_no_uncertified_mentor_is_left_in_service_after_a_sweep_of_many_batches(
    world: World, feature: CertificationFeature
) -> None:
    orgs = [world.organization(), world.organization(time_zone="Pacific/Kiritimati")]
    to_end = []
    for org in orgs:
        for index in range(3):
            org.mentor(certified=False, status="paused" if index == 1 else "active")
        to_end.append((org, org.mentor()))
    for org, mentor in to_end:
        feature.end_all(mentor, yesterday(org))
    report = scheduler.sweep_once(world.conn, batch_size=2)
    assert (report.ran, report.expired) == (True, 8)
    assert uncertified_but_in_service(world.conn) == []


def test_coordinators_and_mentors_cannot_run_the_sweep(world: World) -> None:
    org = world.organization()
    mentor = org.mentor(certified=False)
    for caller in (org.coordinator(), mentor.identity):
        with pytest.raises(Forbidden):
            rpc.call(world.conn, caller, "expire_lapsed_certifications", {"batch_size": 10})
    assert world.status(mentor) == "active"


# -- the notifications ---------------------------------------------------------------------


def expiry_notifications(world: World, mentor: Mentor) -> list[dict[str, Any]]:
    [event] = [e for e in world.events(mentor) if e["to_status"] == "expired_cert"]
    rows = world.outbox(event["id"])
    for row in rows:
        payload = row["payload"]
        # what the feature reads from each notification
        assert row["kind"] == payload["kind"] == "status_changed"
        assert payload["mentor"]["id"] == str(mentor.id)
        assert payload["to_status"] == "expired_cert"
        assert payload["sequence"] == event["sequence"]
        assert payload["hash"] == event["hash"].hex()
        assert payload["recipient_id"] == str(row["recipient_id"])
        assert payload["actor"] == {"user_id": None, "kind": "system"}
    return rows


def test_an_expiry_notifies_each_assigned_coordinator_with_what_the_feature_reads(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    first, second = org.coordinator(), org.coordinator()
    active = org.mentor(coordinators=(first, second), name="Ada")
    paused = org.mentor(coordinators=(first,), status="paused", name="Grace")
    for mentor in (active, paused):
        feature.end_all(mentor, yesterday(org))
    sweep_as_scheduler(world.conn)
    rows = expiry_notifications(world, active)
    assert {row["recipient_id"] for row in rows} == {first.user_id, second.user_id}
    assert {row["payload"]["from_status"] for row in rows} == {"active"}
    [row] = expiry_notifications(world, paused)
    assert row["recipient_id"] == first.user_id
    assert row["payload"]["from_status"] == "paused"
    assert row["payload"]["mentor"]["display_name"] == "Grace"


def test_an_expiry_of_a_mentor_without_a_coordinator_notifies_the_admins(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    other_admin = org.second_admin()
    mentor = org.mentor()
    feature.end_all(mentor, yesterday(org))
    sweep_as_service_role(world.conn)
    recipients = {row["recipient_id"] for row in expiry_notifications(world, mentor)}
    assert recipients == {org.admin.user_id, other_admin.user_id}


def test_certification_writes_alone_notify_nobody(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    mentor = org.mentor(coordinators=(org.coordinator(),))
    before = world.counts(mentor)
    feature.end_all(mentor, yesterday(org))
    feature.record(mentor, world.today(org.id), None)
    assert world.counts(mentor) == before


# -- recertification -----------------------------------------------------------------------


def test_a_recertified_mentor_stays_expired_until_their_coordinator_reactivates_them(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    coordinator, colleague = org.coordinator(), org.coordinator()
    mentor = org.mentor(coordinators=(coordinator, colleague), certified=False)
    sweep_as_service_role(world.conn)
    with pytest.raises(CertificationLapsed):
        call(world.conn, coordinator, "reactivate_mentor", mentor_id=mentor.id)

    feature.record(mentor, world.today(org.id), world.today(org.id) + timedelta(days=730))
    assert sweep_as_service_role(world.conn) == 0
    assert world.status(mentor) == "expired_cert"  # recording changes no status
    shown = call(world.conn, coordinator, "get_current_status", mentor_id=mentor.id)
    assert (shown["status"], shown["allowed_transitions"]) == ("expired_cert", ["active"])
    assert shown["certification"]["certified"] is True

    result = call(
        world.conn, coordinator, "reactivate_mentor", mentor_id=mentor.id, reason="recertified"
    )
    assert (result["previous_status"], result["status"]) == ("expired_cert", "active")
    assert result["event"]["actor_kind"] == "coordinator"
    [row] = world.outbox(world.event_id(result))
    assert row["recipient_id"] == colleague.user_id
    assert (row["payload"]["from_status"], row["payload"]["to_status"]) == (
        "expired_cert",
        "active",
    )
    assert sweep_as_service_role(world.conn) == 0
    assert world.status(mentor) == "active"


def test_a_recertified_mentor_cannot_reactivate_themselves(
    world: World, feature: CertificationFeature
) -> None:
    org = world.organization()
    mentor = org.mentor(certified=False)
    sweep_as_service_role(world.conn)
    feature.record(mentor, world.today(org.id), None)
    shown = call(world.conn, mentor.identity, "get_current_status", mentor_id=mentor.id)
    assert shown["allowed_transitions"] == []
    with pytest.raises(Forbidden):
        call(world.conn, mentor.identity, "reactivate_mentor", mentor_id=mentor.id)
    assert world.status(mentor) == "expired_cert"
