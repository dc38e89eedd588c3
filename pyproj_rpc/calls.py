"""One description per api function: its checked arguments and how to read its result.

Shared by the sync and async clients and the REST adapter. Arguments are checked for
type and shape before the database is touched (a bad one raises
:class:`~pyproj_rpc.api_errors.InvalidInput`, as the database would); the rules
themselves stay in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pyproj_rpc.api_errors import InvalidInput
from pyproj_rpc.models import (
    CurrentStatus,
    MentorStatus,
    PausedMentor,
    PauseHistory,
    TransitionResult,
)

T = TypeVar("T")

# The database's own limit (pause_periods.reason_is_trimmed_and_short, clean_text).
REASON_MAX_LENGTH = 500

# UTF-16 surrogates: a str may hold them (from JSON's "\ud800", or bytes of argv that are
# not UTF-8); UTF-8, hence PostgreSQL, cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Call(Generic[T]):
    """An api function, its arguments, the HTTP method PostgREST would use, its parser."""

    function: str
    arguments: Mapping[str, Any]
    parse: Callable[[list[Any]], T]
    method: str = "POST"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details={"field": field})


def storable_text(value: str, field: str, *, what: str | None = None) -> str:
    """``value``, unless PostgreSQL text cannot hold it: a NUL or a lone surrogate.

    The one check of text before the database, for the clients and the REST adapter.
    Raises :class:`InvalidInput` naming ``field``; ``what`` names the text in the
    message (default: ``field``).
    """
    name = what or field
    if "\x00" in value:
        raise _invalid(field, f"{name} contains a NUL character, which PostgreSQL text cannot hold")
    if _SURROGATE.search(value):
        raise _invalid(
            field,
            f"{name} contains a lone surrogate (U+D800 to U+DFFF), "
            "which PostgreSQL text cannot hold",
        )
    return value


def storable_json(value: Any, field: str, *, what: str | None = None) -> Any:
    """``value``, if every string in it, object keys included, is :func:`storable_text`."""
    pending = [value]  # a loop, not recursion: nesting depth is the sender's choice
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            storable_text(item, field, what=what)
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return value


def as_uuid(value: Any, field: str) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise _invalid(field, f"{field} must be a UUID, not {value!r}")


def as_optional_uuid(value: Any, field: str) -> UUID | None:
    return None if value is None else as_uuid(value, field)


def as_optional_date(value: Any, field: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _invalid(field, f"{field} must be a date (YYYY-MM-DD), not {value!r}")


def as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid(field, f"{field} must be true or false, not {value!r}")


def as_reason(value: Any, field: str = "reason", *, required: bool) -> str | None:
    """Trimmed text, None when blank; refused when required and blank, too long, or
    not :func:`storable_text`."""
    if value is None:
        cleaned = None
    elif isinstance(value, str):
        cleaned = storable_text(value, field).strip() or None
    else:
        raise _invalid(field, f"{field} must be text, not {value!r}")
    if cleaned is None and required:
        raise _invalid(field, f"{field} is required")
    if cleaned is not None and len(cleaned) > REASON_MAX_LENGTH:
        raise InvalidInput(
            f"{field} is {len(cleaned)} characters long; the limit is {REASON_MAX_LENGTH}",
            details={"field": field, "length": len(cleaned)},
        )
    return cleaned


def as_status(value: Any, field: str) -> MentorStatus:
    try:
        return MentorStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in MentorStatus)
        raise _invalid(field, f"{field} must be one of {allowed}, not {value!r}") from None


def _one(parse: Callable[[Any], T]) -> Callable[[list[Any]], T]:
    return lambda rows: parse(rows[0])


def activate_pause(
    mentor_id: UUID | str,
    reason: str,
    expected_return_date: date | str | None = None,
    force: bool = False,
    idempotency_key: UUID | str | None = None,
) -> Call[TransitionResult]:
    """Pause an active mentor."""
    return Call(
        "activate_pause",
        {
            "mentor_id": as_uuid(mentor_id, "mentor_id"),
            "reason": as_reason(reason, required=True),
            "expected_return_date": as_optional_date(expected_return_date, "expected_return_date"),
            "force": as_bool(force, "force"),
            "idempotency_key": as_optional_uuid(idempotency_key, "idempotency_key"),
        },
        _one(TransitionResult.from_json),
    )


def lift_pause(
    mentor_id: UUID | str,
    reason: str | None = None,
    idempotency_key: UUID | str | None = None,
) -> Call[TransitionResult]:
    """End a paused mentor's pause."""
    return Call(
        "lift_pause",
        {
            "mentor_id": as_uuid(mentor_id, "mentor_id"),
            "reason": as_reason(reason, required=False),
            "idempotency_key": as_optional_uuid(idempotency_key, "idempotency_key"),
        },
        _one(TransitionResult.from_json),
    )


def reactivate_mentor(
    mentor_id: UUID | str,
    reason: str | None = None,
    idempotency_key: UUID | str | None = None,
) -> Call[TransitionResult]:
    """Make a paused or expired_cert mentor active again."""
    return Call(
        "reactivate_mentor",
        {
            "mentor_id": as_uuid(mentor_id, "mentor_id"),
            "reason": as_reason(reason, required=False),
            "idempotency_key": as_optional_uuid(idempotency_key, "idempotency_key"),
        },
        _one(TransitionResult.from_json),
    )


def auto_expire_for_certification(mentor_id: UUID | str) -> Call[TransitionResult]:
    """Expire a mentor whose certification has lapsed."""
    return Call(
        "auto_expire_for_certification",
        {"mentor_id": as_uuid(mentor_id, "mentor_id")},
        _one(TransitionResult.from_json),
    )


def get_current_status(mentor_id: UUID | str) -> Call[CurrentStatus]:
    """A mentor's status now."""
    return Call(
        "get_current_status",
        {"mentor_id": as_uuid(mentor_id, "mentor_id")},
        _one(CurrentStatus.from_json),
        method="GET",
    )


def get_pause_history(mentor_id: UUID | str) -> Call[PauseHistory]:
    """A mentor's pauses and events, newest first."""
    return Call(
        "get_pause_history",
        {"mentor_id": as_uuid(mentor_id, "mentor_id")},
        _one(PauseHistory.from_json),
        method="GET",
    )


def get_paused_mentors(coordinator_id: UUID | str | None = None) -> Call[list[PausedMentor]]:
    """The paused mentors of a coordinator (default: the caller)."""
    return Call(
        "get_paused_mentors",
        {"coordinator_id": as_optional_uuid(coordinator_id, "coordinator_id")},
        lambda rows: [PausedMentor.from_json(row) for row in rows],
        method="GET",
    )


def is_transition_allowed(
    current_status: MentorStatus | str, target_status: MentorStatus | str
) -> Call[bool]:
    """Whether the state machine has this transition."""
    return Call(
        "is_transition_allowed",
        {
            "current_status": as_status(current_status, "current_status").value,
            "target_status": as_status(target_status, "target_status").value,
        },
        _one(bool),
        method="GET",
    )


def expire_lapsed_certifications(batch_size: int = 500) -> Call[int]:
    """Expire up to ``batch_size`` mentors whose certification lapsed; how many it did."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise _invalid("batch_size", f"batch_size must be a positive integer, not {batch_size!r}")
    return Call("expire_lapsed_certifications", {"batch_size": batch_size}, _one(int))
