"""How the CLI shows results: short human text, or JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from pyproj_rpc.models import (
    CurrentStatus,
    Pause,
    PausedMentor,
    PauseHistory,
    TransitionResult,
)
from pyproj_rpc.text import format_table


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, UUIDs and dates as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | date | datetime):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return value


def as_json(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2)


def pause_line(pause: Pause) -> str:
    back = f", back {pause.expected_return_date}" if pause.expected_return_date else ""
    return f"paused since {pause.start_date} by {pause.started_by_kind}{back}: {pause.reason}"


def transition(result: TransitionResult) -> str:
    if not result.changed:
        return f"{result.mentor_id}: already {result.status} (nothing changed)"
    lines = [f"{result.mentor_id}: {result.previous_status} -> {result.status}"]
    if result.event is not None:
        lines.append(
            f"  event {result.event.sequence} by "
            f"{result.event.actor_kind}" + (", forced" if result.event.forced else "")
        )
        lines += [
            f"  finding: {f.code} ({'blocking' if f.blocking else 'info'}): {f.message}"
            for f in result.event.findings
        ]
    if result.open_pause is not None:
        lines.append(f"  {pause_line(result.open_pause)}")
    return "\n".join(lines)


def status(current: CurrentStatus) -> str:
    certification = (
        f"valid until {current.certification.valid_until or 'further notice'}"
        if current.certification.certified
        else "not valid today"
    )
    lines = [
        f"{current.display_name} ({current.mentor_id})",
        f"  status: {current.status} since {current.status_since:%Y-%m-%d %H:%M %Z}",
        f"  certification: {certification}",
        f"  you are: {current.caller_kind}; you may move them to: "
        + (", ".join(current.allowed_transitions) or "nothing"),
    ]
    if current.open_pause is not None:
        lines.append(f"  {pause_line(current.open_pause)}")
    return "\n".join(lines)


def history(found: PauseHistory) -> str:
    events = format_table(
        ("#", "when", "from", "to", "by", "reason"),
        [
            (
                e.sequence,
                f"{e.occurred_at:%Y-%m-%d %H:%M}",
                e.from_status,
                e.to_status,
                e.actor_kind,
                e.reason,
            )
            for e in found.events
        ],
    )
    pauses = format_table(
        ("start", "expected back", "ended", "why ended", "reason"),
        [
            (p.start_date, p.expected_return_date, p.end_date, p.end_reason, p.reason)
            for p in found.pauses
        ],
    )
    return f"status events (newest first)\n{events}\n\npauses (newest first)\n{pauses}"


def paused(mentors: list[PausedMentor]) -> str:
    if not mentors:
        return "no paused mentors"
    return format_table(
        ("mentor", "id", "since", "expected back", "reason"),
        [
            (
                m.display_name,
                m.mentor_id,
                m.open_pause.start_date,
                m.open_pause.expected_return_date,
                m.open_pause.reason,
            )
            for m in mentors
        ],
    )
