"""What the api functions return, as frozen dataclasses with precise types.

Each ``from_json`` reads the JSON an api function returns (snake_case keys, ISO dates);
nothing here adds a rule: the database decided everything already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class MentorStatus(StrEnum):
    """A mentor's status."""

    ACTIVE = "active"
    PAUSED = "paused"
    EXPIRED_CERT = "expired_cert"


class ActorKind(StrEnum):
    """Who took a transition, relative to the mentor."""

    MENTOR = "mentor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    SYSTEM = "system"


class PauseEndReason(StrEnum):
    """Why a pause ended."""

    LIFTED = "lifted"
    REACTIVATED = "reactivated"
    CERTIFICATION_EXPIRED = "certification_expired"


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def _required_uuid(value: Any) -> UUID:
    return UUID(str(value))


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _required_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class Finding:
    """One result of a pause precondition check."""

    check: str
    code: str
    message: str
    blocking: bool
    details: Any

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            check=data["check"],
            code=data["code"],
            message=data["message"],
            blocking=bool(data["blocking"]),
            details=data.get("details"),
        )


def _findings(data: list[dict[str, Any]] | None) -> tuple[Finding, ...]:
    return tuple(Finding.from_json(item) for item in data or ())


@dataclass(frozen=True)
class Pause:
    """A pause period: open while ``ended_at`` is None."""

    id: UUID
    mentor_id: UUID
    start_date: date
    expected_return_date: date | None
    reason: str
    started_at: datetime
    started_by: UUID | None
    started_by_kind: ActorKind
    forced: bool
    ended_at: datetime | None
    end_date: date | None
    end_reason: PauseEndReason | None
    ended_by: UUID | None
    ended_by_kind: ActorKind | None
    end_note: str | None
    overdue_notified_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pause:
        return cls(
            id=_required_uuid(data["id"]),
            mentor_id=_required_uuid(data["mentor_id"]),
            start_date=date.fromisoformat(data["start_date"]),
            expected_return_date=_date(data.get("expected_return_date")),
            reason=data["reason"],
            started_at=_required_datetime(data["started_at"]),
            started_by=_uuid(data.get("started_by")),
            started_by_kind=ActorKind(data["started_by_kind"]),
            forced=bool(data["forced"]),
            ended_at=_datetime(data.get("ended_at")),
            end_date=_date(data.get("end_date")),
            end_reason=PauseEndReason(data["end_reason"]) if data.get("end_reason") else None,
            ended_by=_uuid(data.get("ended_by")),
            ended_by_kind=ActorKind(data["ended_by_kind"]) if data.get("ended_by_kind") else None,
            end_note=data.get("end_note"),
            overdue_notified_at=_datetime(data.get("overdue_notified_at")),
        )


def _pause(data: dict[str, Any] | None) -> Pause | None:
    return None if data is None else Pause.from_json(data)


@dataclass(frozen=True)
class StatusEvent:
    """One entry of the audit trail, identified by ``(mentor_id, sequence)``."""

    mentor_id: UUID
    sequence: int
    from_status: MentorStatus
    to_status: MentorStatus
    reason: str | None
    actor_user_id: UUID | None
    actor_kind: ActorKind
    database_role: str
    forced: bool
    findings: tuple[Finding, ...]
    idempotency_key: UUID | None
    pause_id: UUID | None
    occurred_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusEvent:
        return cls(
            mentor_id=_required_uuid(data["mentor_id"]),
            sequence=int(data["sequence"]),
            from_status=MentorStatus(data["from_status"]),
            to_status=MentorStatus(data["to_status"]),
            reason=data.get("reason"),
            actor_user_id=_uuid(data.get("actor_user_id")),
            actor_kind=ActorKind(data["actor_kind"]),
            database_role=data["database_role"],
            forced=bool(data["forced"]),
            findings=_findings(data.get("findings")),
            idempotency_key=_uuid(data.get("idempotency_key")),
            pause_id=_uuid(data.get("pause_id")),
            occurred_at=_required_datetime(data["occurred_at"]),
        )


@dataclass(frozen=True)
class TransitionResult:
    """What a write call did. ``changed`` is False for an idempotent no-op."""

    mentor_id: UUID
    changed: bool
    previous_status: MentorStatus
    status: MentorStatus
    status_since: datetime
    event: StatusEvent | None
    open_pause: Pause | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TransitionResult:
        return cls(
            mentor_id=_required_uuid(data["mentor_id"]),
            changed=bool(data["changed"]),
            previous_status=MentorStatus(data["previous_status"]),
            status=MentorStatus(data["status"]),
            status_since=_required_datetime(data["status_since"]),
            event=StatusEvent.from_json(data["event"]) if data.get("event") else None,
            open_pause=_pause(data.get("open_pause")),
        )


@dataclass(frozen=True)
class Certification:
    """Whether the mentor is certified today; ``valid_until`` is the last valid day."""

    certified: bool
    valid_until: date | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Certification:
        return cls(certified=bool(data["certified"]), valid_until=_date(data.get("valid_until")))


@dataclass(frozen=True)
class HeldBack:
    """A transition the rules allow the caller but a blocking pause precondition holds
    back; with ``can_force`` the caller may take it anyway (``force=True``)."""

    to_status: MentorStatus
    code: str
    message: str
    can_force: bool
    findings: tuple[Finding, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HeldBack:
        return cls(
            to_status=MentorStatus(data["to_status"]),
            code=data["code"],
            message=data["message"],
            can_force=bool(data["can_force"]),
            findings=_findings(data.get("findings")),
        )


@dataclass(frozen=True)
class CurrentStatus:
    """A mentor's status now, and what the caller may do about it."""

    mentor_id: UUID
    organization_id: UUID
    display_name: str
    status: MentorStatus
    status_since: datetime
    status_version: int
    today: date
    open_pause: Pause | None
    certification: Certification
    caller_kind: ActorKind
    allowed_transitions: tuple[MentorStatus, ...]
    held_back: tuple[HeldBack, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CurrentStatus:
        return cls(
            mentor_id=_required_uuid(data["mentor_id"]),
            organization_id=_required_uuid(data["organization_id"]),
            display_name=data["display_name"],
            status=MentorStatus(data["status"]),
            status_since=_required_datetime(data["status_since"]),
            status_version=int(data["status_version"]),
            today=date.fromisoformat(data["today"]),
            open_pause=_pause(data.get("open_pause")),
            certification=Certification.from_json(data["certification"]),
            caller_kind=ActorKind(data["caller_kind"]),
            allowed_transitions=tuple(MentorStatus(s) for s in data["allowed_transitions"]),
            held_back=tuple(HeldBack.from_json(h) for h in data.get("held_back") or ()),
        )


@dataclass(frozen=True)
class PauseHistory:
    """A mentor's pauses and status events, newest first."""

    mentor_id: UUID
    pauses: tuple[Pause, ...]
    events: tuple[StatusEvent, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PauseHistory:
        return cls(
            mentor_id=_required_uuid(data["mentor_id"]),
            pauses=tuple(Pause.from_json(p) for p in data["pauses"]),
            events=tuple(StatusEvent.from_json(e) for e in data["events"]),
        )


@dataclass(frozen=True)
class PausedMentor:
    """A paused mentor and their open pause."""

    mentor_id: UUID
    display_name: str
    organization_id: UUID
    status_since: datetime
    open_pause: Pause

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PausedMentor:
        return cls(
            mentor_id=_required_uuid(data["mentor_id"]),
            display_name=data["display_name"],
            organization_id=_required_uuid(data["organization_id"]),
            status_since=_required_datetime(data["status_since"]),
            open_pause=Pause.from_json(data["open_pause"]),
        )
