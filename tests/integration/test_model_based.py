"""Model-based: random sequences of every write, by every kind of caller, against a model.

A hypothesis state machine drives every api write function (activate_pause, lift_pause,
reactivate_mentor, auto_expire_for_certification, expire_lapsed_certifications), direct
UPDATEs of mentors.status (by the owner, service_role and users), the certification
feature's writes, pause preconditions and coordinator assignments, as the mentor, another
mentor, assigned and unassigned coordinators, an admin who is also a mentor, another
organization's admin, the admin, service_role, the owner and anon. After every step the
database must agree with tests/model_support.py (statuses, pauses, events, outbox
recipients, idempotency keys, error codes) and the invariants must hold.

Each example runs in a savepoint of one transaction on a database of its own, rolled back
at its end; after each step the deferred constraints are checked as a commit would.
Deterministic by default (derandomized, no example database): CI never flakes.
More examples: ``PYPROJ_RPC_MODEL_EXAMPLES=5000``; ``PYPROJ_RPC_MODEL_STEPS`` (steps per
example); ``PYPROJ_RPC_MODEL_RANDOM=1`` for new examples on every run.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any, ClassVar

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from psycopg.rows import dict_row

from pyproj_rpc.api_errors import PauseManagementError, from_database_error
from pyproj_rpc.identity import Identity, postgrest_request
from pyproj_rpc.queries import query
from tests.conftest import Database
from tests.model_support import (
    ACTIVE,
    EXPIRED,
    OPERATIONS,
    PAUSED,
    PRECONDITIONS,
    Expected,
    MentorModel,
    Model,
    Organization,
    Person,
    Refusal,
    StoredKey,
    database_state,
    invariant_violations,
    mentor_views,
    model_view,
)
from tests.support import ARGUMENTS, World, call

EXAMPLES = int(os.environ.get("PYPROJ_RPC_MODEL_EXAMPLES", "300"))
STEPS = int(os.environ.get("PYPROJ_RPC_MODEL_STEPS", "25"))
RANDOM = os.environ.get("PYPROJ_RPC_MODEL_RANDOM", "") not in ("", "0")

CALLERS = (
    "mentor_0",  # a mentor (on mentor_0: the mentor; on the others: another mentor)
    "mentor_1",  # a mentor who is also a coordinator of the organization
    "admin_mentor",  # mentor_2's user, also an admin of the organization
    "coordinator_1",
    "coordinator_2",
    "coordinator_3",  # never assigned
    "admin",
    "admin_elsewhere",
    "mentor_elsewhere",
    "service_role",
    "owner",
    "anon",
)
# Callers relative to the mentor a call is about; each names one or more people.
ROLES = (
    "the_mentor",
    "assigned_coordinator",
    "admin",
    "another_mentor",
    "unassigned_coordinator",
    "admin_elsewhere",
    "service_role",
    "owner",
    "anon",
)
MENTORS = ("mentor_0", "mentor_1", "mentor_2", "mentor_elsewhere")
TARGETS = (*MENTORS, "nobody")
COORDINATORS = ("coordinator_1", "coordinator_2", "coordinator_3", "mentor_1")
ASSIGNABLE = ("coordinator_1", "coordinator_2", "mentor_1")
STARTS = ("active", "active", "active", "active_lapsed", "expired_lapsed", "expired_recertified")
ZONES = ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu")
FINE_REASONS = ("Exam week", "  Family leave  ", "\tnot trimmed")  # btrim trims spaces only
REASONS = (
    *FINE_REASONS,
    None,
    "",
    "   ",
    "x" * 500,
    "x" * 501,
    " " + "é" * 500 + " ",  # 500 characters, 1000 bytes
    "é" * 501,
    " " * 4500 + "wide" + " " * 4500,  # fine alone, too big to keep with a key
)
RETURNS = (1, 365, 0, 366, -1)  # days from the organization's today
KEYS = (0, 1, 2)
END_REASONS = (None, "lifted", "reactivated", "certification_expired")
OFFSETS = (-400, -30, -1, 0, 1, 2, 30)

# Mostly calls that can succeed, often the limits and the strangers.
subjects = st.sampled_from((*MENTORS[:3], *MENTORS[:3], "mentor_elsewhere", "nobody"))
roles = st.tuples(st.sampled_from(ROLES[:3] * 2 + ROLES), st.integers(0, 3))
reasons = st.sampled_from(FINE_REASONS) | st.sampled_from(REASONS)
returns = st.none() | st.sampled_from(RETURNS)
keys = st.none() | st.sampled_from(KEYS)
OUTCOMES: Counter[tuple[str, str]] = Counter()  # (call, outcome), printed at the end


class PauseManagement(RuleBasedStateMachine):
    """Two organizations, four mentors and every kind of caller, against the model."""

    conn: ClassVar[psycopg.Connection[Any]]
    owner_role: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = self.conn.transaction(force_rollback=True)
        self.savepoint.__enter__()
        self.world = World(self.conn)
        self.model = Model()
        self.people: dict[str, Person] = {}
        self.identities: dict[str, Identity] = {}
        self.mentors: dict[str, MentorModel] = {}
        self.keys = [uuid.uuid4() for _ in KEYS]
        self.nobody = uuid.uuid4()
        self.initial: dict[str, str] = {}
        self.organizations: list[Organization] = []
        self.previous_state: Any = None
        self.last_keyed: tuple[str, str, str, dict[str, Any], int] | None = None
        self.changes_nothing = False

    def teardown(self) -> None:
        self.savepoint.__exit__(None, None, None)

    # -- the world ---------------------------------------------------------------------------

    @initialize(
        zones=st.tuples(st.sampled_from(ZONES), st.sampled_from(ZONES)),
        starts=st.tuples(*[st.sampled_from(STARTS)] * len(MENTORS)),
    )
    def two_organizations(self, zones: tuple[str, str], starts: tuple[str, ...]) -> None:
        here = self.world.organization("Here", zones[0])
        elsewhere = self.world.organization("Elsewhere", zones[1])
        seed = self.world.seed
        assert here.admin.user_id is not None
        assert elsewhere.admin.user_id is not None
        orgs = {
            here.id: Organization(here.id, self.world.today(here.id), {here.admin.user_id}),
            elsewhere.id: Organization(
                elsewhere.id, self.world.today(elsewhere.id), {elsewhere.admin.user_id}
            ),
        }
        users = {"admin": here.admin, "admin_elsewhere": elsewhere.admin}
        for name in ("coordinator_1", "coordinator_2", "coordinator_3"):
            users[name] = here.coordinator()
        for name, start in zip(MENTORS, starts, strict=True):
            org = elsewhere if name == "mentor_elsewhere" else here
            status = ACTIVE if start.startswith(ACTIVE) else EXPIRED
            certified = start in ("active", "expired_recertified")
            mentor = org.mentor(status=status, certified=certified, name=name)
            self.mentors[name] = MentorModel(
                id=mentor.id,
                user_id=mentor.user_id,
                organization=orgs[org.id],
                status=status,
                # as the seeder writes them: a year from 30 days ago, or lapsed yesterday
                certifications=[(-30, 335) if certified else (-30, 0)],
            )
            users[name if name != "mentor_2" else "admin_mentor"] = mentor.identity
        self.identities = users | {"service_role": Identity.service(), "anon": Identity.anon()}
        for name, identity in users.items():
            self.people[name] = Person(name, "user", identity.user_id)
        self.people["service_role"] = Person("service_role", "service", None, "service_role")
        self.people["anon"] = Person("anon", "anon", None, "anon")
        self.people["owner"] = Person("owner", "owner", None, self.owner_role)
        # mentor_2's user is also an admin, mentor_1's also a coordinator of the organization
        seed.staff(here.id, self.mentors["mentor_2"].user_id, "admin")
        orgs[here.id].admins.add(self.mentors["mentor_2"].user_id)
        seed.staff(here.id, self.mentors["mentor_1"].user_id, "coordinator")
        self.assign("coordinator_1", "mentor_0")
        self.assign("coordinator_1", "mentor_1")
        self.assign("coordinator_2", "mentor_1")
        self.model.mentors = {m.id: m for m in self.mentors.values()}
        self.organizations = list(orgs.values())
        self.initial = {str(m.id): m.status for m in self.mentors.values()}

    def assign(self, coordinator: str, mentor: str) -> None:
        user_id = self.people[coordinator].user_id
        assert user_id is not None
        self.world.seed.assign(self.mentors[mentor].id, user_id)
        self.mentors[mentor].coordinators.add(user_id)

    def who(self, role: tuple[str, int], subject: str) -> str:
        """The person who has this role towards the mentor (the n-th, when several do)."""
        kind, pick = role
        mentor = self.mentors.get(subject, self.mentors["mentor_0"])
        by_user = {p.user_id: name for name, p in self.people.items() if p.user_id}
        coordinators = [
            n for n in COORDINATORS if self.people[n].user_id not in mentor.coordinators
        ]
        others = [org for org in self.organizations if org is not mentor.organization]
        options = {
            "the_mentor": [by_user[mentor.user_id]],
            "another_mentor": [
                by_user[m.user_id] for m in self.mentors.values() if m is not mentor
            ],
            "assigned_coordinator": sorted(by_user[u] for u in mentor.coordinators),
            "unassigned_coordinator": coordinators,
            "admin": sorted(by_user[u] for u in mentor.organization.admins),
            "admin_elsewhere": sorted(by_user[u] for org in others for u in org.admins),
        }.get(kind, [kind])
        # no assigned coordinator: an unassigned one asks
        options = options or coordinators
        return options[pick % len(options)]

    def resolve(self, name: str) -> tuple[uuid.UUID, MentorModel | None]:
        if name == "nobody":
            return self.nobody, None
        return self.mentors[name].id, self.mentors[name]

    # -- calling the database ----------------------------------------------------------------

    def invoke(self, caller: str, function: str, **arguments: Any) -> tuple[str, Any]:
        """``api.<function>`` as the caller: ("ok", result) or (error code, error)."""
        try:
            if caller == "owner":
                with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
                    named = {name: arguments.get(name) for name in ARGUMENTS[function]}
                    try:
                        row = cur.execute(query(f"rpc_{function}"), named).fetchone()
                    except psycopg.Error as exc:
                        error = from_database_error(exc)
                        if error is None:
                            raise
                        raise error from exc
                    assert row is not None
                    return "ok", row["result"]
            return "ok", call(self.conn, self.identities[caller], function, **arguments)
        except PauseManagementError as error:
            return error.code, error

    def update_status(
        self, caller: str, ids: list[uuid.UUID], status: str, request: dict[str, Any]
    ) -> tuple[str, Any]:
        """A direct UPDATE of mentors.status with the api's arguments in the setting."""
        statements = (
            ("select set_config('mentoring.transition_request', %s, true)", (json.dumps(request),)),
            (
                "update mentoring.mentors set status = %s::mentoring.mentor_status"
                " where id = any (%s)",
                (status, ids),
            ),
        )
        try:
            if caller == "owner":
                with self.conn.transaction(), self.conn.cursor() as cur:
                    for sql, params in statements:
                        cur.execute(sql, params)
                    rows = cur.rowcount
                    cur.execute("select set_config('mentoring.transition_request', '', true)")
                    return "ok", rows
            with postgrest_request(self.conn, self.identities[caller]) as cur:
                for sql, params in statements:
                    cur.execute(sql, params)
                rows = cur.rowcount
                cur.execute("select set_config('mentoring.transition_request', '', true)")
                return "ok", rows
        except psycopg.Error as exc:
            error = from_database_error(exc, anonymous=caller == "anon")
            if error is None:
                raise
            return error.code, error

    # -- the api's write functions -----------------------------------------------------------

    def write(
        self, operation: str, caller: str, subject: str, arguments: dict[str, Any], key: int | None
    ) -> None:
        person = self.people[caller]
        mentor_id, mentor = self.resolve(subject)
        key_id = None if key is None else self.keys[key]
        if key is not None:
            self.last_keyed = (operation, caller, subject, arguments, key)
        model_arguments = {k: v for k, v in arguments.items() if k != "mentor_id"}
        model_arguments = {"mentor_id": str(mentor_id)} | {
            k: v.isoformat() if isinstance(v, date) else v for k, v in model_arguments.items()
        }
        if operation in ("lift_pause", "reactivate_mentor"):
            model_arguments["end_reason"] = "lifted" if operation == "lift_pause" else "reactivated"
        expected = self.model.expect_call(operation, person, mentor, model_arguments, key_id)
        extra = {} if operation == "auto_expire_for_certification" else {"idempotency_key": key_id}
        code, result = self.invoke(caller, operation, mentor_id=mentor_id, **arguments, **extra)
        assert code == expected.code, f"{operation} by {caller} on {subject}: {result}"
        OUTCOMES[operation, "replayed" if expected.replay else code] += 1
        if expected.refusal is not None:
            self.changes_nothing = True
        elif expected.replay is not None:
            assert result == expected.replay.result
            self.changes_nothing = True
        elif expected.unchanged:
            assert mentor is not None
            assert (result["changed"], result["status"], result["previous_status"]) == (
                False,
                EXPIRED,
                EXPIRED,
            )
            assert result["event"] is None
            self.changes_nothing = True
        else:
            assert mentor is not None
            self.check_change(expected, mentor, person, result)
            if key_id is not None:
                self.model.keys[(person.caller_key, key_id)] = StoredKey(
                    operation, model_arguments, result
                )

    def check_change(
        self, expected: Expected, mentor: MentorModel, person: Person, result: Any
    ) -> None:
        assert expected.target is not None
        event = self.model.apply(mentor, expected.target, person, expected.request)
        assert result["changed"] is True
        assert result["mentor_id"] == str(mentor.id)
        assert (result["previous_status"], result["status"]) == (event.from_status, event.to_status)
        assert result["event"]["sequence"] == event.sequence
        assert result["event"]["reason"] == event.reason
        pause = mentor.open_pause()
        if pause is None:
            assert result["open_pause"] is None
        else:
            assert result["open_pause"]["reason"] == pause.reason
            back = pause.expected_return_date
            assert result["open_pause"]["expected_return_date"] == (back and back.isoformat())

    def days(self, subject: str, offset: int | None) -> date | None:
        if offset is None or subject == "nobody":
            return None if offset is None else date.today() + timedelta(days=offset)
        return self.mentors[subject].today + timedelta(days=offset)

    @rule(
        caller=roles, subject=subjects, reason=reasons, back=returns, force=st.booleans(), key=keys
    )
    def activate_pause(
        self,
        *,
        caller: tuple[str, int],
        subject: str,
        reason: str | None,
        back: int | None,
        force: bool,
        key: int | None,
    ) -> None:
        arguments = {
            "reason": reason,
            "expected_return_date": self.days(subject, back),
            "force": force,
        }
        self.write("activate_pause", self.who(caller, subject), subject, arguments, key)

    @rule(caller=roles, subject=subjects, reason=st.none() | reasons, key=keys)
    def lift_pause(
        self, caller: tuple[str, int], subject: str, reason: str | None, key: int | None
    ) -> None:
        self.write("lift_pause", self.who(caller, subject), subject, {"reason": reason}, key)

    @rule(caller=roles, subject=subjects, reason=st.none() | reasons, key=keys)
    def reactivate_mentor(
        self, caller: tuple[str, int], subject: str, reason: str | None, key: int | None
    ) -> None:
        arguments = {"reason": reason}
        self.write("reactivate_mentor", self.who(caller, subject), subject, arguments, key)

    @rule(caller=roles, subject=subjects)
    def auto_expire_for_certification(self, caller: tuple[str, int], subject: str) -> None:
        name = self.who(caller, subject)
        self.write("auto_expire_for_certification", name, subject, {}, None)

    def where_it_applies(self, operation: str, nth: int) -> str | None:
        """The nth mentor (of those) in a status the function applies to."""
        applies = [n for n, m in self.mentors.items() if m.status in OPERATIONS[operation][1]]
        return applies[nth % len(applies)] if applies else None

    @precondition(lambda self: self.where_it_applies("activate_pause", 0))
    @rule(caller=roles, nth=st.integers(0, 3), reason=reasons, force=st.booleans(), key=keys)
    def pause_an_active_mentor(
        self, caller: tuple[str, int], nth: int, reason: str, force: bool, key: int | None
    ) -> None:
        subject = self.where_it_applies("activate_pause", nth) or "nobody"
        arguments = {"reason": reason, "expected_return_date": None, "force": force}
        self.write("activate_pause", self.who(caller, subject), subject, arguments, key)

    @precondition(lambda self: self.where_it_applies("lift_pause", 0))
    @rule(
        operation=st.sampled_from(("lift_pause", "reactivate_mentor")),
        caller=roles,
        nth=st.integers(0, 3),
        reason=st.none() | reasons,
        key=keys,
    )
    def end_a_pause(
        self, operation: str, caller: tuple[str, int], nth: int, reason: str, key: int | None
    ) -> None:
        subject = self.where_it_applies("lift_pause", nth) or "nobody"
        self.write(operation, self.who(caller, subject), subject, {"reason": reason}, key)

    @precondition(lambda self: any(m.status == EXPIRED for m in self.mentors.values()))
    @rule(caller=roles, nth=st.integers(0, 3), reason=st.none() | reasons, key=keys)
    def reactivate_an_expired_mentor(
        self, caller: tuple[str, int], nth: int, reason: str, key: int | None
    ) -> None:
        applies = [n for n, m in self.mentors.items() if m.status == EXPIRED] or ["nobody"]
        subject = applies[nth % len(applies)]
        arguments = {"reason": reason}
        self.write("reactivate_mentor", self.who(caller, subject), subject, arguments, key)

    @precondition(lambda self: self.last_keyed is not None)
    @rule(same=st.booleans())
    def the_last_keyed_call_again(self, same: bool) -> None:
        """A client retries with its idempotency key, or reuses it for another request."""
        assert self.last_keyed is not None
        operation, caller, subject, arguments, key = self.last_keyed
        if not same:
            arguments = arguments | {"reason": "Another reason"}
        self.write(operation, caller, subject, arguments, key)

    @rule(caller=st.sampled_from(CALLERS), batch_size=st.sampled_from((500, 1, 2, 0)))
    def expire_lapsed_certifications(self, caller: str, batch_size: int) -> None:
        """The scheduler's way: batches until one comes back short (README, "The scheduler").

        Which mentors a batch smaller than the candidates takes is the database's choice;
        after the last batch every candidate is expired, whatever the order.
        """
        person = self.people[caller]
        candidates = self.model.sweep_candidates(person)
        if caller == "anon":
            expected = "unauthenticated"
        elif batch_size < 1:
            expected = "invalid_input"
        else:
            expected = candidates.code if not isinstance(candidates, list) else "ok"
        remaining = len(candidates) if isinstance(candidates, list) else 0
        while True:
            code, result = self.invoke(
                caller, "expire_lapsed_certifications", batch_size=batch_size
            )
            assert code == expected, f"sweep by {caller}: {result}"
            OUTCOMES["expire_lapsed_certifications", code] += 1
            if code != "ok":
                self.changes_nothing = True
                return
            assert result == min(batch_size, remaining), f"{remaining} to expire"
            remaining -= result
            if result < batch_size:
                break
        assert isinstance(candidates, list)
        assert remaining == 0
        for mentor in sorted(candidates, key=lambda m: str(m.id)):
            self.model.apply(mentor, EXPIRED, person, {"reason": "certification lapsed"})
        self.changes_nothing = not candidates

    # -- direct writes -----------------------------------------------------------------------

    @rule(
        caller=roles,
        subject=subjects | st.just("everyone_here"),
        status=st.sampled_from((PAUSED, ACTIVE, EXPIRED)),
        reason=st.none() | reasons,
        force=st.booleans(),
        end_reason=st.sampled_from(END_REASONS),
        back=returns,
    )
    def update_the_status_directly(
        self,
        *,
        caller: tuple[str, int],
        subject: str,
        status: str,
        reason: str | None,
        force: bool,
        end_reason: str | None,
        back: int | None,
    ) -> None:
        if caller[0] in ("owner", "service_role", "anon") or subject != "everyone_here":
            name = self.who(caller, subject)
        else:
            name = "admin"
        person = self.people[name]
        if subject == "everyone_here":
            mentors = [m for name, m in self.mentors.items() if name != "mentor_elsewhere"]
        else:
            mentors = [m for m in (self.resolve(subject)[1],) if m is not None]
        ids = [m.id for m in mentors] or [self.nobody]
        back_day = self.days(subject if subject in MENTORS else "mentor_0", back)
        request = {
            "reason": reason,
            "force": force,
            "end_reason": end_reason,
            "expected_return_date": back_day and back_day.isoformat(),
        }
        rows = [m for m in mentors if self.model.actor_kind(person, m) is not None]
        changes = [(m, status) for m in rows if m.status != status]
        refused = self.model.statement_refusal(changes, person, request) if changes else None
        if person.kind == "anon":  # no privilege on the table at all
            refused = Refusal("unauthenticated")
        code, result = self.update_status(name, ids, status, request)
        assert code == (refused.code if refused else "ok"), f"UPDATE by {name}: {result}"
        OUTCOMES[f"UPDATE as {caller[0]}", code if refused or changes else "no change"] += 1
        if refused is not None:
            self.changes_nothing = True
            return
        assert result == len(rows)
        for mentor, target_status in changes:
            self.model.apply(mentor, target_status, person, request)
        self.changes_nothing = not changes

    # -- what other features write -----------------------------------------------------------

    @rule(
        subject=st.sampled_from(MENTORS),
        change=st.sampled_from(("renew", "add", "lapse", "revoke")),
        first=st.sampled_from(OFFSETS),
        lapses=st.sampled_from((*OFFSETS, None)),
    )
    def certification_feature_writes(
        self, subject: str, change: str, first: int, lapses: int | None
    ) -> None:
        mentor = self.mentors[subject]
        with self.conn.transaction():
            if change == "renew":
                first, lapses = 0, 365
            if change in ("add", "renew"):
                if lapses is not None and lapses <= first:
                    lapses = first + 1
                last = None if lapses is None else mentor.today + timedelta(days=lapses)
                self.world.seed.certify(mentor.id, mentor.today + timedelta(days=first), last)
                mentor.certifications.append((first, lapses))
            elif change == "lapse":
                self.world.seed.lapse(mentor.id)
                mentor.certifications = [(min(f, -30), 0) for f, _ in mentor.certifications]
            else:
                self.conn.execute(
                    "delete from mentoring.certifications where mentor_id = %s", (mentor.id,)
                )
                mentor.certifications = []

    @rule(subject=st.sampled_from(MENTORS), busy=st.booleans(), noted=st.booleans())
    def preconditions_find(self, subject: str, busy: bool, noted: bool) -> None:
        mentor = self.mentors[subject]
        with self.conn.transaction():
            for table, present in (("busy", busy), ("noted", noted)):
                self.conn.execute(
                    f"delete from model_checks.{table} where mentor_id = %s",  # noqa: S608
                    (mentor.id,),
                )
                if present:
                    self.conn.execute(
                        f"insert into model_checks.{table} values (%s)",  # noqa: S608
                        (mentor.id,),
                    )
        mentor.busy, mentor.noted = busy, noted

    @rule(check=st.sampled_from(("sessions_in_progress", "unread_notes")), enabled=st.booleans())
    def precondition_switched(self, check: str, enabled: bool) -> None:
        with self.conn.transaction():
            self.conn.execute(
                "update mentoring.pause_preconditions set enabled = %s where name = %s",
                (enabled, check),
            )
        self.model.checks_enabled[check] = enabled

    @rule(coordinator=st.sampled_from(ASSIGNABLE), subject=st.sampled_from(MENTORS[:3]))
    def staffing_assigns_or_unassigns(self, coordinator: str, subject: str) -> None:
        mentor = self.mentors[subject]
        user_id = self.people[coordinator].user_id
        assert user_id is not None
        with self.conn.transaction():
            if user_id in mentor.coordinators:
                self.conn.execute(
                    "delete from mentoring.mentor_coordinators"
                    " where mentor_id = %s and coordinator_id = %s",
                    (mentor.id, user_id),
                )
                mentor.coordinators.discard(user_id)
            else:
                self.assign(coordinator, subject)

    # -- reads ---------------------------------------------------------------------------

    @rule(caller=roles, subject=subjects)
    def get_current_status(self, caller: tuple[str, int], subject: str) -> None:
        name = self.who(caller, subject)
        person = self.people[name]
        mentor_id, mentor = self.resolve(subject)
        code, result = self.invoke(name, "get_current_status", mentor_id=mentor_id)
        self.changes_nothing = True
        OUTCOMES["get_current_status", code] += 1
        if name == "anon":
            assert code == "unauthenticated"
            return
        kind = None if mentor is None else self.model.actor_kind(person, mentor)
        if mentor is None or kind is None:
            assert code == "mentor_not_found"
            return
        assert code == "ok", result
        pause = mentor.open_pause()
        until = mentor.valid_until()
        assert {
            "status": result["status"],
            "status_version": result["status_version"],
            "pause": result["open_pause"] and result["open_pause"]["reason"],
            "certification": result["certification"],
            "caller_kind": result["caller_kind"],
            "allowed_transitions": result["allowed_transitions"],
            "pause_held_back_from_caller": any(not h["can_force"] for h in result["held_back"]),
        } == {
            "status": mentor.status,
            "status_version": len(mentor.events),
            "pause": pause and pause.reason,
            "certification": {
                "certified": mentor.certified(),
                "valid_until": until and until.isoformat(),
            },
            "caller_kind": kind,
            "allowed_transitions": self.model.allowed_transitions(person, mentor),
            "pause_held_back_from_caller": (
                PAUSED in self.model.allowed_by_rule(person, mentor)
                and self.model.pause_held_back(mentor, kind)
            ),
        }

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        if not self.mentors:
            return
        with self.conn.transaction():  # what a commit would check
            self.conn.execute("set constraints all immediate")
            self.conn.execute("set constraints all deferred")
        state = database_state(self.conn, [m.id for m in self.mentors.values()])
        if self.changes_nothing:
            assert state == self.previous_state, "a refused call changed something"
        assert invariant_violations(state, self.initial) == []
        views = mentor_views(state)
        for name, mentor in self.mentors.items():
            assert views[str(mentor.id)] == model_view(mentor), name
        assert {
            (k["caller"], k["key"]): (k["operation"], k["arguments"], k["result"])
            for k in state["keys"]
        } == {
            (caller, str(key)): (stored.operation, stored.arguments, stored.result)
            for (caller, key), stored in self.model.keys.items()
        }
        self.previous_state = state
        self.changes_nothing = False


@pytest.fixture
def model_db(isolated_db: Database) -> Database:
    with isolated_db.connect() as conn:
        conn.execute(PRECONDITIONS)
    return isolated_db


@pytest.mark.slow
@pytest.mark.timeout(max(300, EXAMPLES * 3))
def test_every_write_by_every_caller_keeps_the_database_in_line_with_the_rules(
    model_db: Database,
) -> None:
    with model_db.connect() as conn:
        row = conn.execute("select session_user").fetchone()
        assert row is not None
        PauseManagement.conn = conn
        PauseManagement.owner_role = row[0]
        run_state_machine_as_test(
            PauseManagement,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=not RANDOM,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ),
        )
        conn.rollback()
    print(f"\n{sum(OUTCOMES.values())} calls:")
    for (what, outcome), count in sorted(OUTCOMES.items()):
        print(f"  {what}: {outcome} x{count}")
