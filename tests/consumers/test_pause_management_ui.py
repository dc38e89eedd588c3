"""The pause-management UI, as a consumer: every screen's call and every refusal it shows.

Each test runs through both ways the UI reaches us: the RPC (``api.*`` as PostgREST runs
it, with the HTTP status PostgREST would answer) and the REST adapter
(``/api/v1/pause-management/...``). The UI reads results in snake_case (the REST API's
camelCase is converted back), an error by its ``code`` and its HTTP status.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import httpx
import psycopg
import pytest

from pyproj_rpc import rpc
from pyproj_rpc.api_errors import PauseManagementError
from pyproj_rpc.identity import Identity
from pyproj_rpc.rest.app import PREFIX
from tests.conftest import Database
from tests.rest_support import auth_headers, snake_keys
from tests.support import ARGUMENTS, Mentor, Organization, call

# A blocking check another feature registers: no pause while a session is in progress.
SESSION_CHECK = """
create schema ui_checks;
create table ui_checks.sessions_in_progress (mentor_id uuid primary key, session text);
create function ui_checks.sessions_in_progress(mentor_id uuid)
  returns setof mentoring.precondition_finding language sql stable
  set search_path = pg_catalog, pg_temp as $$
    select 'session_in_progress', format('session %s is in progress', s.session), true,
           jsonb_build_object('session', s.session)
    from ui_checks.sessions_in_progress s
    where s.mentor_id = sessions_in_progress.mentor_id
  $$;
insert into mentoring.pause_preconditions (name, check_function, description)
  values ('sessions_in_progress', 'ui_checks.sessions_in_progress', 'No pause mid-session.');
"""


@dataclass
class Refusal(Exception):
    """A refusal as the UI sees it."""

    code: str
    status: int
    details: Any


class Transport(Protocol):
    def status(self, who: Identity, mentor_id: uuid.UUID) -> Any: ...
    def history(self, who: Identity, mentor_id: uuid.UUID) -> Any: ...
    def paused(self, who: Identity) -> Any: ...
    def activate(
        self,
        who: Identity,
        mentor_id: uuid.UUID,
        reason: str,
        expected_return_date: date | None = None,
        force: bool = False,
    ) -> Any: ...
    def lift(self, who: Identity, mentor_id: uuid.UUID, reason: str | None = None) -> Any: ...
    def reactivate(self, who: Identity, mentor_id: uuid.UUID, reason: str | None = None) -> Any: ...


def postgrest_status(error: PauseManagementError) -> int:
    """The HTTP status PostgREST answers for the database error behind ``error``."""
    cause = error.__cause__
    assert isinstance(cause, psycopg.Error), f"no database error behind {error!r}"
    if cause.sqlstate == "PGRST":  # our raise_error: the status is in the detail
        status: int = json.loads(cause.diag.message_detail or "")["status"]
        return status
    if cause.sqlstate == "42501":
        return 403  # PostgREST, for a signed-in caller
    if (cause.sqlstate or "").startswith("22"):
        return 400
    raise AssertionError(f"PostgREST would answer 500 for {cause.sqlstate}: {cause}")


class Rpc:
    """``api.*`` through :func:`pyproj_rpc.rpc.call`, one committed request per call."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def _call(self, who: Identity, function: str, method: str = "POST", **kwargs: Any) -> Any:
        arguments = {name: kwargs.get(name) for name in ARGUMENTS[function]}
        try:
            results = rpc.call(self.conn, who, function, arguments, method=method)
        except PauseManagementError as error:
            raise Refusal(error.code, postgrest_status(error), error.details) from error
        return results if function == "get_paused_mentors" else results[0]

    def status(self, who: Identity, mentor_id: uuid.UUID) -> Any:
        return self._call(who, "get_current_status", "GET", mentor_id=mentor_id)

    def history(self, who: Identity, mentor_id: uuid.UUID) -> Any:
        return self._call(who, "get_pause_history", "GET", mentor_id=mentor_id)

    def paused(self, who: Identity) -> Any:
        return self._call(who, "get_paused_mentors", "GET")

    def activate(
        self,
        who: Identity,
        mentor_id: uuid.UUID,
        reason: str,
        expected_return_date: date | None = None,
        force: bool = False,
    ) -> Any:
        return self._call(
            who,
            "activate_pause",
            mentor_id=mentor_id,
            reason=reason,
            expected_return_date=expected_return_date,
            force=force,
        )

    def lift(self, who: Identity, mentor_id: uuid.UUID, reason: str | None = None) -> Any:
        return self._call(who, "lift_pause", mentor_id=mentor_id, reason=reason)

    def reactivate(self, who: Identity, mentor_id: uuid.UUID, reason: str | None = None) -> Any:
        return self._call(who, "reactivate_mentor", mentor_id=mentor_id, reason=reason)


class Rest:
    """``/api/v1/pause-management/...`` over HTTP, read back in snake_case."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _send(self, method: str, path: str, who: Identity, body: Any = None) -> Any:
        response = self.client.request(method, PREFIX + path, headers=auth_headers(who), json=body)
        if response.status_code != 200:
            error = response.json()
            raise Refusal(error["code"], response.status_code, error["details"])
        return snake_keys(response.json())

    def status(self, who: Identity, mentor_id: uuid.UUID) -> Any:
        return self._send("GET", f"/{mentor_id}/status", who)

    def history(self, who: Identity, mentor_id: uuid.UUID) -> Any:
        return self._send("GET", f"/{mentor_id}/history", who)

    def paused(self, who: Identity) -> Any:
        return self._send("GET", "/paused", who)

    def activate(
        self,
        who: Identity,
        mentor_id: uuid.UUID,
        reason: str,
        expected_return_date: date | None = None,
        force: bool = False,
    ) -> Any:
        body: dict[str, Any] = {"reason": reason, "force": force}
        if expected_return_date is not None:
            body["expectedReturnDate"] = expected_return_date.isoformat()
        return self._send("POST", f"/{mentor_id}/activate", who, body)

    def lift(self, who: Identity, mentor_id: uuid.UUID, reason: str | None = None) -> Any:
        body = None if reason is None else {"reason": reason}
        return self._send("POST", f"/{mentor_id}/lift", who, body)

    def reactivate(self, who: Identity, mentor_id: uuid.UUID, reason: str | None = None) -> Any:
        body = None if reason is None else {"reason": reason}
        return self._send("POST", f"/{mentor_id}/reactivate", who, body)


@pytest.fixture(scope="module")
def session_check(database: Database) -> None:
    """Registers the blocking check in the module's database."""
    with database.connect() as owner:
        owner.execute(SESSION_CHECK)
        owner.commit()


@pytest.fixture(params=["rpc", "rest"])
def ui(
    request: pytest.FixtureRequest, database: Database, client: httpx.Client
) -> Iterator[Transport]:
    if request.param == "rest":
        yield Rest(client)
        return
    with database.connect() as conn:
        yield Rpc(conn)


@dataclass
class Team:
    """A committed organization: a coordinator, their colleague elsewhere, mentors."""

    org: Organization
    coordinator: Identity
    other_coordinator: Identity

    @property
    def conn(self) -> psycopg.Connection[Any]:
        return self.org.world.conn

    @property
    def today(self) -> date:
        return self.org.world.today(self.org.id)

    def mentor(self, status: str = "active", **kwargs: Any) -> Mentor:
        mentor = self.org.mentor(status=status, coordinators=(self.coordinator,), **kwargs)
        self.conn.commit()
        return mentor

    def act(self, who: Identity, function: str, **kwargs: Any) -> None:
        """A change made beforehand through the RPC, committed."""
        call(self.conn, who, function, **kwargs)
        self.conn.commit()

    def paused_by_coordinator(self, **kwargs: Any) -> Mentor:
        mentor = self.mentor(**kwargs)
        self.act(
            self.coordinator,
            "activate_pause",
            mentor_id=mentor.id,
            reason="check-in",
            expected_return_date=self.today + timedelta(days=14),
        )
        return mentor

    def expired(self, *, recertified: bool) -> Mentor:
        mentor = self.mentor(certified=False)
        self.act(Identity.service(), "auto_expire_for_certification", mentor_id=mentor.id)
        if recertified:
            self.org.world.certify(mentor, self.today, None)
            self.conn.commit()
        return mentor

    def in_session(self, mentor: Mentor) -> None:
        self.conn.execute(
            "insert into ui_checks.sessions_in_progress values (%s, 'Tuesday group')",
            (mentor.id,),
        )
        self.conn.commit()

    def status_of(self, mentor: Mentor) -> str:
        status = self.org.world.status(mentor)
        self.conn.commit()
        return status


@pytest.fixture
def team(org: Organization, session_check: None) -> Team:
    team = Team(org, org.coordinator(), org.coordinator())
    org.world.conn.commit()
    return team


# -- the status screen ---------------------------------------------------------------------


def test_the_status_screen_shows_status_certification_and_the_viewers_actions(
    ui: Transport, team: Team
) -> None:
    mentor = team.mentor(name="Noor")
    shown = ui.status(team.coordinator, mentor.id)
    assert (shown["mentor_id"], shown["display_name"]) == (str(mentor.id), "Noor")
    assert (shown["status"], shown["caller_kind"]) == ("active", "coordinator")
    assert shown["today"] == team.today.isoformat()
    assert shown["certification"]["certified"] is True
    assert shown["certification"]["valid_until"] == (team.today + timedelta(days=334)).isoformat()
    assert (shown["allowed_transitions"], shown["held_back"]) == (["paused"], [])
    assert shown["open_pause"] is None
    own = ui.status(mentor.identity, mentor.id)
    assert (own["caller_kind"], own["allowed_transitions"]) == ("mentor", ["paused"])


@pytest.mark.parametrize(
    ("situation", "coordinator_may", "mentor_may"),
    [
        ("paused by the coordinator", ["active"], []),
        ("paused by the mentor", ["active"], ["active"]),
        ("expired, not recertified", [], []),
        ("expired, recertified", ["active"], []),
    ],
)
def test_the_status_screen_offers_only_the_transitions_the_viewer_may_take(
    ui: Transport, team: Team, situation: str, coordinator_may: list[str], mentor_may: list[str]
) -> None:
    makers: dict[str, Callable[[], Mentor]] = {
        "paused by the coordinator": team.paused_by_coordinator,
        "paused by the mentor": lambda: team.mentor(status="paused"),
        "expired, not recertified": lambda: team.expired(recertified=False),
        "expired, recertified": lambda: team.expired(recertified=True),
    }
    mentor = makers[situation]()
    assert ui.status(team.coordinator, mentor.id)["allowed_transitions"] == coordinator_may
    assert ui.status(mentor.identity, mentor.id)["allowed_transitions"] == mentor_may


def test_the_status_screen_holds_back_a_pause_a_blocking_check_stops(
    ui: Transport, team: Team
) -> None:
    mentor = team.mentor()
    team.in_session(mentor)
    own = ui.status(mentor.identity, mentor.id)
    assert own["allowed_transitions"] == []
    [held] = own["held_back"]
    assert (held["to_status"], held["code"], held["can_force"]) == (
        "paused",
        "precondition_failed",
        False,
    )
    assert held["message"]
    [finding] = held["findings"]
    assert (finding["check"], finding["code"], finding["blocking"]) == (
        "sessions_in_progress",
        "session_in_progress",
        True,
    )
    assert "Tuesday group" in finding["message"]
    coordinators = ui.status(team.coordinator, mentor.id)
    assert coordinators["allowed_transitions"] == ["paused"]
    [held] = coordinators["held_back"]
    assert held["can_force"] is True


# -- history and the paused list -----------------------------------------------------------


def test_the_history_screen_lists_each_pause_and_event_newest_first(
    ui: Transport, team: Team
) -> None:
    mentor = team.paused_by_coordinator()
    team.act(team.coordinator, "lift_pause", mentor_id=mentor.id, reason="back early")
    history = ui.history(mentor.identity, mentor.id)
    assert history["mentor_id"] == str(mentor.id)
    [pause] = history["pauses"]
    assert (pause["reason"], pause["expected_return_date"]) == (
        "check-in",
        (team.today + timedelta(days=14)).isoformat(),
    )
    assert (pause["started_by_kind"], pause["end_reason"], pause["end_note"]) == (
        "coordinator",
        "lifted",
        "back early",
    )
    steps = [
        (e["sequence"], e["from_status"], e["to_status"], e["actor_kind"], e["reason"])
        for e in history["events"]
    ]
    assert steps == [
        (2, "paused", "active", "coordinator", "back early"),
        (1, "active", "paused", "coordinator", "check-in"),
    ]


def test_the_paused_list_shows_a_coordinators_paused_mentors_with_their_open_pause(
    ui: Transport, team: Team
) -> None:
    by_coordinator = team.paused_by_coordinator(name="Ada")
    by_mentor = team.mentor(status="paused", name="Grace")
    team.mentor(name="Still active")
    elsewhere = team.org.mentor(status="paused", coordinators=(team.other_coordinator,))
    team.conn.commit()
    listed = {row["mentor_id"]: row for row in ui.paused(team.coordinator)}
    assert set(listed) == {str(by_coordinator.id), str(by_mentor.id)}
    ada = listed[str(by_coordinator.id)]
    assert ada["display_name"] == "Ada"
    assert (ada["open_pause"]["reason"], ada["open_pause"]["expected_return_date"]) == (
        "check-in",
        (team.today + timedelta(days=14)).isoformat(),
    )
    assert listed[str(by_mentor.id)]["open_pause"]["started_by_kind"] == "mentor"
    others = [row["mentor_id"] for row in ui.paused(team.other_coordinator)]
    assert others == [str(elsewhere.id)]


# -- the actions -----------------------------------------------------------------------------


def test_pausing_with_a_reason_and_a_return_date_pauses_the_mentor(
    ui: Transport, team: Team
) -> None:
    mentor = team.mentor()
    back = team.today + timedelta(days=21)
    result = ui.activate(team.coordinator, mentor.id, "Family leave", back)
    assert (result["changed"], result["previous_status"], result["status"]) == (
        True,
        "active",
        "paused",
    )
    pause = result["open_pause"]
    assert (pause["reason"], pause["expected_return_date"], pause["start_date"]) == (
        "Family leave",
        back.isoformat(),
        team.today.isoformat(),
    )
    assert (result["event"]["sequence"], result["event"]["to_status"]) == (1, "paused")
    assert ui.status(team.coordinator, mentor.id)["allowed_transitions"] == ["active"]
    assert team.status_of(mentor) == "paused"


def test_a_coordinator_can_pause_anyway_past_a_blocking_check(ui: Transport, team: Team) -> None:
    mentor = team.mentor()
    team.in_session(mentor)
    result = ui.activate(team.coordinator, mentor.id, "urgent", force=True)
    assert (result["status"], result["event"]["forced"]) == ("paused", True)
    assert [f["code"] for f in result["event"]["findings"]] == ["session_in_progress"]


def test_lifting_a_pause_makes_the_mentor_active_and_closes_the_pause(
    ui: Transport, team: Team
) -> None:
    mentor = team.paused_by_coordinator()
    result = ui.lift(team.coordinator, mentor.id, "back early")
    assert (result["changed"], result["previous_status"], result["status"]) == (
        True,
        "paused",
        "active",
    )
    assert result["open_pause"] is None
    [pause] = ui.history(team.coordinator, mentor.id)["pauses"]
    assert (pause["end_reason"], pause["end_note"]) == ("lifted", "back early")


def test_a_mentor_can_lift_a_pause_they_started(ui: Transport, team: Team) -> None:
    mentor = team.mentor(status="paused")
    assert ui.lift(mentor.identity, mentor.id)["status"] == "active"


def test_reactivating_a_recertified_mentor_makes_them_active(ui: Transport, team: Team) -> None:
    mentor = team.expired(recertified=True)
    result = ui.reactivate(team.coordinator, mentor.id, "recertified")
    assert (result["previous_status"], result["status"]) == ("expired_cert", "active")
    assert (result["event"]["actor_kind"], result["event"]["reason"]) == (
        "coordinator",
        "recertified",
    )
    assert team.status_of(mentor) == "active"


# -- the refusals the UI shows ---------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A situation, the call the UI makes in it, and the refusal it must show."""

    setup: Callable[[Team], Mentor]
    attempt: Callable[[Transport, Team, Mentor], Any]
    code: str
    status: int


def lapsed_while_paused(team: Team) -> Mentor:
    mentor = team.paused_by_coordinator()
    team.org.world.lapse(mentor)
    team.conn.commit()
    return mentor


def in_session(team: Team) -> Mentor:
    mentor = team.mentor()
    team.in_session(mentor)
    return mentor


REFUSALS: dict[str, Refused] = {
    "a mentor lifting a pause their coordinator started": Refused(
        lambda team: team.paused_by_coordinator(),
        lambda ui, team, mentor: ui.lift(mentor.identity, mentor.id),
        "forbidden",
        403,
    ),
    "a mentor reactivating themselves": Refused(
        lambda team: team.expired(recertified=True),
        lambda ui, team, mentor: ui.reactivate(mentor.identity, mentor.id),
        "forbidden",
        403,
    ),
    "lifting an active mentor": Refused(
        lambda team: team.mentor(),
        lambda ui, team, mentor: ui.lift(team.coordinator, mentor.id),
        "transition_not_allowed",
        409,
    ),
    "pausing a paused mentor": Refused(
        lambda team: team.paused_by_coordinator(),
        lambda ui, team, mentor: ui.activate(team.coordinator, mentor.id, "again"),
        "transition_not_allowed",
        409,
    ),
    "lifting a pause once the certification lapsed": Refused(
        lapsed_while_paused,
        lambda ui, team, mentor: ui.lift(team.coordinator, mentor.id),
        "certification_lapsed",
        409,
    ),
    "reactivating an expired mentor not recertified": Refused(
        lambda team: team.expired(recertified=False),
        lambda ui, team, mentor: ui.reactivate(team.coordinator, mentor.id),
        "certification_lapsed",
        409,
    ),
    "a mentor pausing during a session in progress": Refused(
        in_session,
        lambda ui, team, mentor: ui.activate(mentor.identity, mentor.id, "tired"),
        "precondition_failed",
        409,
    ),
    "a reason over 500 characters": Refused(
        lambda team: team.mentor(),
        lambda ui, team, mentor: ui.activate(team.coordinator, mentor.id, "x" * 501),
        "invalid_input",
        400,
    ),
    "a return date in the past": Refused(
        lambda team: team.mentor(),
        lambda ui, team, mentor: ui.activate(
            team.coordinator, mentor.id, "leave", team.today - timedelta(days=1)
        ),
        "invalid_input",
        400,
    ),
    "a mentor of another coordinator": Refused(
        lambda team: team.mentor(),
        lambda ui, team, mentor: ui.activate(team.other_coordinator, mentor.id, "leave"),
        "mentor_not_found",
        404,
    ),
    "the status of an unknown mentor": Refused(
        lambda team: team.mentor(),
        lambda ui, team, mentor: ui.status(team.coordinator, uuid.uuid4()),
        "mentor_not_found",
        404,
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_the_ui_shows_each_refusal_with_its_code_and_http_status_and_nothing_changes(
    ui: Transport, team: Team, case: str
) -> None:
    refusal = REFUSALS[case]
    mentor = refusal.setup(team)
    before = (team.status_of(mentor), team.org.world.counts(mentor))
    team.conn.commit()
    with pytest.raises(Refusal) as refused:
        refusal.attempt(ui, team, mentor)
    assert (refused.value.code, refused.value.status) == (refusal.code, refusal.status)
    assert (team.status_of(mentor), team.org.world.counts(mentor)) == before
    team.conn.commit()


def test_a_refused_lift_tells_the_ui_the_current_status(ui: Transport, team: Team) -> None:
    mentor = team.mentor()
    with pytest.raises(Refusal) as refused:
        ui.lift(team.coordinator, mentor.id)
    assert refused.value.details["current_status"] == "active"


def test_a_refused_pause_lists_the_findings_the_ui_shows(ui: Transport, team: Team) -> None:
    mentor = in_session(team)
    with pytest.raises(Refusal) as refused:
        ui.activate(mentor.identity, mentor.id, "tired")
    [finding] = refused.value.details["findings"]
    assert (finding["check"], finding["code"], finding["blocking"]) == (
        "sessions_in_progress",
        "session_in_progress",
        True,
    )
    assert finding["details"] == {"session": "Tuesday group"}
