"""A plain-Python model of the pause-management rules, and the database's invariants.

The model follows the README's rules, not the SQL: the state machine and who may take each
transition, certifications on the organization's today, reasons and expected returns,
pause preconditions and ``force``, idempotency keys, and who hears of a change. Where the
README is silent on which refusal wins when several apply, the model takes the order the
database documents in ``mentoring.mentors_apply_transitions``: who may see the mentor, the
rules, the reason, how a pause ends, the expected return, then the preconditions.

``database_state`` reads everything a change can touch in one round trip;
``invariant_violations`` checks what must hold whatever happened, without the model.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg

ACTIVE, PAUSED, EXPIRED = "active", "paused", "expired_cert"
STATUSES = (ACTIVE, PAUSED, EXPIRED)  # the enum's order, which sorts them
STAFF_KINDS = ("coordinator", "admin")
REASON_LIMIT = 500  # characters, once trimmed of spaces
RETURN_WITHIN_DAYS = 365
KEY_ARGUMENTS_LIMIT = 8192  # bytes of the arguments an idempotency key remembers


@dataclass(frozen=True)
class Rule:
    """What a transition needs: the certification today, and whose pause it may end."""

    certification: str  # any, valid, lapsed
    own_pause_only: bool = False


_EXPIRY = {"system": Rule("lapsed"), "admin": Rule("lapsed")}
# (from, to) -> actor kind -> rule: the README's table.
TRANSITIONS: dict[tuple[str, str], dict[str, Rule]] = {
    (ACTIVE, PAUSED): {kind: Rule("any") for kind in ("mentor", *STAFF_KINDS)},
    (PAUSED, ACTIVE): {
        "mentor": Rule("valid", own_pause_only=True),
        "coordinator": Rule("valid"),
        "admin": Rule("valid"),
    },
    (ACTIVE, EXPIRED): _EXPIRY,
    (PAUSED, EXPIRED): _EXPIRY,
    (EXPIRED, ACTIVE): {kind: Rule("valid") for kind in STAFF_KINDS},
}

# The api's write functions: the status they lead to, and from where.
OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "activate_pause": (PAUSED, (ACTIVE,)),
    "lift_pause": (ACTIVE, (PAUSED,)),
    "reactivate_mentor": (ACTIVE, (PAUSED, EXPIRED)),
    "auto_expire_for_certification": (EXPIRED, (ACTIVE, PAUSED)),
}

# The pause preconditions the tests register (tests/integration/sql/model_preconditions.sql):
# (name, finding code, blocking), in name order.
PRECONDITIONS = (
    Path(__file__).parent / "integration" / "sql" / "model_preconditions.sql"
).read_text()
CHECKS = (("sessions_in_progress", "session_in_progress", True), ("unread_notes", "note", False))


@dataclass(frozen=True)
class Person:
    """Who calls: a signed-in user, anon, service_role, or the owner (a DBA's session)."""

    name: str
    kind: str  # user, anon, service, owner
    user_id: uuid.UUID | None = None
    database_role: str = "authenticated"

    @property
    def caller_key(self) -> str:
        """Whose idempotency keys these are (``mentoring.idempotency_keys.caller``)."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"system:{self.database_role}"


@dataclass
class Pause:
    reason: str
    expected_return_date: date | None
    started_by: uuid.UUID | None
    started_by_kind: str
    forced: bool
    start_date: date
    end_reason: str | None = None
    ended_by: uuid.UUID | None = None
    ended_by_kind: str | None = None
    end_note: str | None = None
    end_date: date | None = None


@dataclass
class Event:
    sequence: int
    from_status: str
    to_status: str
    actor_kind: str
    actor_user_id: uuid.UUID | None
    database_role: str
    reason: str | None
    forced: bool
    findings: list[list[Any]]
    idempotency_key: uuid.UUID | None
    pause: int | None  # index into the mentor's pauses
    recipients: list[uuid.UUID]


@dataclass
class Organization:
    id: uuid.UUID
    today: date
    admins: set[uuid.UUID]


@dataclass
class MentorModel:
    id: uuid.UUID
    user_id: uuid.UUID
    organization: Organization
    status: str
    coordinators: set[uuid.UUID] = field(default_factory=set)
    # certifications as day offsets from the organization's today: [first, lapses) or open
    certifications: list[tuple[int, int | None]] = field(default_factory=list)
    busy: bool = False  # a blocking precondition finding
    noted: bool = False  # an informational one
    pauses: list[Pause] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.organization.today

    @property
    def initial_status(self) -> str:
        return self.events[0].from_status if self.events else self.status

    def certified(self) -> bool:
        return any(first <= 0 and (lapses is None or lapses > 0) for first, lapses in self.spans())

    def spans(self) -> list[tuple[int, int | None]]:
        """The certifications merged as PostgreSQL's range_agg merges them."""
        merged: list[tuple[int, int | None]] = []
        for first, lapses in sorted(self.certifications, key=lambda c: c[0]):
            if merged and (merged[-1][1] is None or first <= merged[-1][1]):
                last_first, last_lapses = merged[-1]
                end = None if last_lapses is None or lapses is None else max(last_lapses, lapses)
                merged[-1] = (last_first, end)
            else:
                merged.append((first, lapses))
        return merged

    def valid_until(self) -> date | None:
        """The last day of the unbroken certification covering today (None: open or none)."""
        for first, lapses in self.spans():
            if first <= 0 and (lapses is None or lapses > 0):
                return None if lapses is None else self.today + timedelta(days=lapses - 1)
        return None

    def certified_through(self) -> str | None:
        """``mentors.certified_through`` as text."""
        if not self.certified():
            return None
        until = self.valid_until()
        return "infinity" if until is None else until.isoformat()

    def open_pause(self) -> Pause | None:
        return self.pauses[-1] if self.status == PAUSED else None


@dataclass
class StoredKey:
    operation: str
    arguments: dict[str, Any]
    result: Any


@dataclass(frozen=True)
class Refusal:
    """An error code, and where it comes in the database's order (step, mentor id)."""

    code: str
    step: int = 0
    mentor_id: uuid.UUID | None = None


@dataclass
class Model:
    """Every mentor, the registered checks and the idempotency keys, as the rules say."""

    mentors: dict[uuid.UUID, MentorModel] = field(default_factory=dict)
    checks_enabled: dict[str, bool] = field(
        default_factory=lambda: {name: True for name, _, _ in CHECKS}
    )
    keys: dict[tuple[str, uuid.UUID], StoredKey] = field(default_factory=dict)

    # -- who is who ------------------------------------------------------------------------

    @staticmethod
    def actor_kind(person: Person, mentor: MentorModel) -> str | None:
        """The caller's relation to the mentor; None when they may not see them."""
        if person.kind in ("service", "owner"):
            return "system"
        if person.user_id is None:
            return None
        if person.user_id == mentor.user_id:
            return "mentor"  # on their own record, whatever staff role they also hold
        if person.user_id in mentor.organization.admins:
            return "admin"
        if person.user_id in mentor.coordinators:
            return "coordinator"
        return None

    @staticmethod
    def audience(mentor: MentorModel, actor: uuid.UUID | None) -> list[uuid.UUID]:
        """Who hears of a change: the coordinators, else the admins; never the actor."""
        heard = mentor.coordinators or mentor.organization.admins
        return sorted(recipient for recipient in heard if recipient != actor)

    def findings(self, mentor: MentorModel) -> list[list[Any]]:
        present = {"sessions_in_progress": mentor.busy, "unread_notes": mentor.noted}
        return [
            [name, code, blocking]
            for name, code, blocking in CHECKS
            if self.checks_enabled[name] and present[name]
        ]

    # -- the rules ---------------------------------------------------------------------------

    def refusal(  # noqa: PLR0911 (one return per rule, in the database's order)
        self, mentor: MentorModel, target: str, person: Person, request: Mapping[str, Any]
    ) -> Refusal | None:
        """Why this change of one mentor is refused (in the database's order), or None."""
        kind = self.actor_kind(person, mentor)
        if kind is None:
            return Refusal("mentor_not_found", 1, mentor.id)
        rules = TRANSITIONS.get((mentor.status, target))
        if rules is None:
            return Refusal("transition_not_allowed", 2, mentor.id)
        rule = rules.get(kind)
        pause = mentor.open_pause()
        if (
            rule is None
            or (rule.own_pause_only and (pause is None or pause.started_by != person.user_id))
            or (bool(request.get("force")) and kind not in STAFF_KINDS)
        ):
            return Refusal("forbidden", 2, mentor.id)
        if rule.certification == "valid" and not mentor.certified():
            return Refusal("certification_lapsed", 2, mentor.id)
        if rule.certification == "lapsed" and mentor.certified():
            return Refusal("certification_valid", 2, mentor.id)
        reason = clean(request.get("reason"))
        if (reason is None and target == PAUSED) or len(reason or "") > REASON_LIMIT:
            return Refusal("invalid_input", 3, mentor.id)
        end_reason = request.get("end_reason")
        ending = "lifted" if end_reason is None else end_reason
        if mentor.status == PAUSED and target == ACTIVE and ending not in ("lifted", "reactivated"):
            return Refusal("invalid_input", 4, mentor.id)
        back = request.get("expected_return_date")
        if target == PAUSED and back is not None:
            back = date.fromisoformat(back)
            if back <= mentor.today or back > mentor.today + timedelta(days=RETURN_WITHIN_DAYS):
                return Refusal("invalid_input", 5, mentor.id)
        return None

    def statement_refusal(
        self, changes: Sequence[tuple[MentorModel, str]], person: Person, request: Mapping[str, Any]
    ) -> Refusal | None:
        """One UPDATE of several mentors: the first refusal refuses it whole."""
        refusals = [self.refusal(m, target, person, request) for m, target in changes]
        found = [r for r in refusals if r is not None]
        if found:
            return min(found, key=lambda r: (r.step, str(r.mentor_id)))
        if any(self.checks_enabled.values()) and not request.get("force"):
            for mentor, target in sorted(changes, key=lambda c: str(c[0].id)):
                blocked = any(f[2] for f in self.findings(mentor))
                if target == PAUSED and blocked:
                    return Refusal("precondition_failed", 6, mentor.id)
        return None

    def apply(
        self,
        mentor: MentorModel,
        target: str,
        person: Person,
        request: Mapping[str, Any],
        *,
        actor_kind: str | None = None,
    ) -> Event:
        """Take an allowed change: the pause records, one event, its recipients."""
        kind = actor_kind or self.actor_kind(person, mentor)
        assert kind is not None
        actor = person.user_id
        reason = clean(request.get("reason"))
        paused_before = mentor.open_pause()
        findings = self.findings(mentor) if target == PAUSED else []
        forced = target == PAUSED and any(f[2] for f in findings)
        if paused_before is not None:
            end_reason = request.get("end_reason")
            paused_before.end_reason = (
                "certification_expired"
                if target == EXPIRED
                else "lifted"
                if end_reason is None
                else end_reason
            )
            paused_before.ended_by, paused_before.ended_by_kind = actor, kind
            paused_before.end_note = reason
            paused_before.end_date = mentor.today
        if target == PAUSED:
            back = request.get("expected_return_date")
            mentor.pauses.append(
                Pause(
                    reason=reason or "",
                    expected_return_date=date.fromisoformat(back) if back else None,
                    started_by=actor,
                    started_by_kind=kind,
                    forced=forced,
                    start_date=mentor.today,
                )
            )
        key = request.get("idempotency_key")
        event = Event(
            sequence=len(mentor.events) + 1,
            from_status=mentor.status,
            to_status=target,
            actor_kind=kind,
            actor_user_id=actor,
            database_role=person.database_role,
            reason=reason,
            forced=forced,
            findings=findings,
            idempotency_key=uuid.UUID(key) if key else None,
            pause=len(mentor.pauses) - 1 if target == PAUSED or paused_before else None,
            recipients=self.audience(mentor, actor),
        )
        mentor.events.append(event)
        mentor.status = target
        return event

    # -- the api functions --------------------------------------------------------------------

    def expect_call(  # noqa: PLR0911 (one return per outcome, in the database's order)
        self,
        operation: str,
        person: Person,
        mentor: MentorModel | None,
        arguments: dict[str, Any],
        key: uuid.UUID | None,
    ) -> Expected:
        """What ``api.<operation>`` must do: refuse, replay a result, or change the mentor."""
        if person.kind == "anon":
            return Expected(Refusal("unauthenticated"))
        if key is not None:
            remembered = json.dumps(arguments, ensure_ascii=False, separators=(", ", ": "))
            if len(remembered.encode()) > KEY_ARGUMENTS_LIMIT:
                return Expected(Refusal("invalid_input"))
            stored = self.keys.get((person.caller_key, key))
            if stored is not None:
                if (stored.operation, stored.arguments) != (operation, arguments):
                    return Expected(Refusal("idempotency_conflict"))
                if mentor is None or self.actor_kind(person, mentor) is None:
                    return Expected(Refusal("mentor_not_found"))
                return Expected(replay=stored)
        if mentor is None or self.actor_kind(person, mentor) is None:
            return Expected(Refusal("mentor_not_found"))
        target, allowed_from = OPERATIONS[operation]
        if mentor.status not in allowed_from:
            if mentor.status == target == EXPIRED:
                kind = self.actor_kind(person, mentor)
                if kind in ("system", "admin"):
                    return Expected(unchanged=True)
                return Expected(Refusal("forbidden"))
            return Expected(Refusal("transition_not_allowed"))
        request = arguments | {"idempotency_key": str(key) if key else None}
        refused = self.statement_refusal([(mentor, target)], person, request)
        if refused is not None:
            return Expected(refused)
        return Expected(target=target, request=request)

    def sweep_candidates(self, person: Person) -> list[MentorModel] | Refusal:
        """Whom ``api.expire_lapsed_certifications`` may expire for this caller."""
        if person.kind == "anon":
            return Refusal("unauthenticated")
        everyone = person.kind in ("service", "owner")
        administered = {
            m.organization.id
            for m in self.mentors.values()
            if person.user_id in m.organization.admins
        }
        if not everyone and not administered:
            return Refusal("forbidden")
        return [
            m
            for m in self.mentors.values()
            if m.status != EXPIRED
            and not m.certified()
            and (everyone or (m.organization.id in administered and m.user_id != person.user_id))
        ]

    def allowed_transitions(self, person: Person, mentor: MentorModel) -> list[str]:
        """``get_current_status``'s allowed_transitions for this caller: a pause a blocking
        finding holds back only for those who can force it."""
        kind = self.actor_kind(person, mentor)
        return [
            target
            for target in self.allowed_by_rule(person, mentor)
            if not (target == PAUSED and self.pause_held_back(mentor, kind))
        ]

    def allowed_by_rule(self, person: Person, mentor: MentorModel) -> list[str]:
        """What the rules let this caller take now, preconditions aside."""
        kind = self.actor_kind(person, mentor)
        allowed = [
            target
            for (source, target), rules in TRANSITIONS.items()
            if source == mentor.status
            and kind in rules
            and self.refusal(mentor, target, person, {"reason": "x"}) is None
        ]
        return sorted(allowed, key=STATUSES.index)

    def pause_held_back(self, mentor: MentorModel, kind: str | None) -> bool:
        """A blocking finding holds a pause back from a caller who cannot force it."""
        return kind not in STAFF_KINDS and any(f[2] for f in self.findings(mentor))


@dataclass
class Expected:
    """What a call must do: a refusal, a replayed result, no change, or one change."""

    refusal: Refusal | None = None
    replay: StoredKey | None = None
    unchanged: bool = False
    target: str | None = None
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.refusal.code if self.refusal else "ok"


def clean(text: str | None) -> str | None:
    """A reason as the database keeps it: spaces trimmed (btrim), blank is none."""
    if text is None:
        return None
    return text.strip(" ") or None


# -- the database, read back -------------------------------------------------------------

STATE_QUERY = """
select jsonb_build_object(
  'mentors', coalesce((
    select jsonb_object_agg(m.id, jsonb_build_object(
      'status', m.status, 'status_version', m.status_version,
      'open_pause_id', m.open_pause_id, 'certified_through', m.certified_through::text))
    from mentoring.mentors m where m.id = any (%(ids)s)), '{}'),
  'pauses', coalesce((
    select jsonb_agg(to_jsonb(p) order by p.started_at, p.id)
    from mentoring.pause_periods p where p.mentor_id = any (%(ids)s)), '[]'),
  'events', coalesce((
    select jsonb_agg(to_jsonb(e) || jsonb_build_object('recipients', coalesce((
        select jsonb_agg(o.recipient_id order by o.recipient_id)
        from mentoring.outbox o where o.event_id = e.id), '[]'))
      order by e.mentor_id, e.sequence)
    from mentoring.status_events e where e.mentor_id = any (%(ids)s)), '[]'),
  'outbox', (select count(*) from mentoring.outbox),
  'keys', coalesce((
    select jsonb_agg(to_jsonb(k) - 'created_at' order by k.caller, k.key)
    from mentoring.idempotency_keys k), '[]'))
"""


def database_state(conn: psycopg.Connection[Any], mentor_ids: Iterable[uuid.UUID]) -> Any:
    """The mentors, their pauses, events with outbox recipients, and every idempotency key."""
    row = conn.execute(STATE_QUERY, {"ids": list(mentor_ids)}).fetchone()
    assert row is not None
    return row[0]


def mentor_views(state: Any) -> dict[str, dict[str, Any]]:
    """Per mentor: status, version, pauses and events, pause ids as positions."""
    views: dict[str, dict[str, Any]] = {}
    for mentor_id, mentor in state["mentors"].items():
        pauses = [p for p in state["pauses"] if p["mentor_id"] == mentor_id]
        position = {p["id"]: index for index, p in enumerate(pauses)}
        views[mentor_id] = {
            "status": mentor["status"],
            "status_version": mentor["status_version"],
            "certified_through": mentor["certified_through"],
            "open_pause": position.get(mentor["open_pause_id"]),
            "pauses": [
                {
                    "reason": p["reason"],
                    "expected_return_date": p["expected_return_date"],
                    "started_by": p["started_by"],
                    "started_by_kind": p["started_by_kind"],
                    "forced": p["forced"],
                    "start_date": p["start_date"],
                    "end_reason": p["end_reason"],
                    "ended_by": p["ended_by"],
                    "ended_by_kind": p["ended_by_kind"],
                    "end_note": p["end_note"],
                    "end_date": p["end_date"],
                }
                for p in pauses
            ],
            "events": [
                {
                    "sequence": e["sequence"],
                    "from_status": e["from_status"],
                    "to_status": e["to_status"],
                    "actor_kind": e["actor_kind"],
                    "actor_user_id": e["actor_user_id"],
                    "database_role": e["database_role"],
                    "reason": e["reason"],
                    "forced": e["forced"],
                    "findings": [[f["check"], f["code"], f["blocking"]] for f in e["findings"]],
                    "idempotency_key": e["idempotency_key"],
                    "pause": position.get(e["pause_id"]) if e["pause_id"] else None,
                    "recipients": sorted(e["recipients"]),
                }
                for e in state["events"]
                if e["mentor_id"] == mentor_id
            ],
        }
    return views


def model_view(mentor: MentorModel) -> dict[str, Any]:
    """What :func:`mentor_views` must show for this mentor."""

    def text(value: Any) -> Any:
        return None if value is None else str(value)

    return {
        "status": mentor.status,
        "status_version": len(mentor.events),
        "certified_through": mentor.certified_through(),
        "open_pause": len(mentor.pauses) - 1 if mentor.status == PAUSED else None,
        "pauses": [
            {
                "reason": p.reason,
                "expected_return_date": text(p.expected_return_date),
                "started_by": text(p.started_by),
                "started_by_kind": p.started_by_kind,
                "forced": p.forced,
                "start_date": text(p.start_date),
                "end_reason": p.end_reason,
                "ended_by": text(p.ended_by),
                "ended_by_kind": p.ended_by_kind,
                "end_note": p.end_note,
                "end_date": text(p.end_date),
            }
            for p in mentor.pauses
        ],
        "events": [
            {
                "sequence": e.sequence,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor_kind": e.actor_kind,
                "actor_user_id": text(e.actor_user_id),
                "database_role": e.database_role,
                "reason": e.reason,
                "forced": e.forced,
                "findings": e.findings,
                "idempotency_key": text(e.idempotency_key),
                "pause": e.pause,
                "recipients": sorted(str(r) for r in e.recipients),
            }
            for e in mentor.events
        ],
    }


def invariant_violations(state: Any, initial_status: Mapping[str, str] | None = None) -> list[str]:
    """What must hold whatever happened, read from the database alone.

    Paused exactly when one pause is open (and the mentor points at it); events numbered
    1..n with n the status version (one event per change); each event starts where the
    previous one ended, and the last one ends at the current status; every key holds a
    result.
    """
    problems: list[str] = []
    for mentor_id, mentor in state["mentors"].items():
        pauses = [p for p in state["pauses"] if p["mentor_id"] == mentor_id]
        open_pauses = [p for p in pauses if p["ended_at"] is None]
        if (mentor["status"] == PAUSED) != (len(open_pauses) == 1) or len(open_pauses) > 1:
            problems.append(f"{mentor_id}: {mentor['status']} with {len(open_pauses)} open pauses")
        if [p["id"] for p in open_pauses] != (
            [mentor["open_pause_id"]] if mentor["open_pause_id"] else []
        ):
            problems.append(f"{mentor_id}: open_pause_id is not its open pause")
        events = [e for e in state["events"] if e["mentor_id"] == mentor_id]
        if [e["sequence"] for e in events] != list(range(1, len(events) + 1)):
            problems.append(f"{mentor_id}: event sequences {[e['sequence'] for e in events]}")
        if mentor["status_version"] != len(events):
            problems.append(
                f"{mentor_id}: version {mentor['status_version']}, {len(events)} events"
            )
        for earlier, later in itertools.pairwise(events):
            if earlier["to_status"] != later["from_status"]:
                problems.append(f"{mentor_id}: event {later['sequence']} starts elsewhere")
        if events and events[-1]["to_status"] != mentor["status"]:
            problems.append(f"{mentor_id}: last event ends at {events[-1]['to_status']}")
        if initial_status is not None:
            first = events[0]["from_status"] if events else mentor["status"]
            if first != initial_status[mentor_id]:
                problems.append(f"{mentor_id}: history starts at {first}")
    problems.extend(
        f"key {k['key']} of {k['caller']} holds no result" for k in state["keys"] if not k["result"]
    )
    return problems
