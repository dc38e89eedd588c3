"""An outbox row as sinks see it, and the JSON envelope that carries it.

Every kind of notification (``status_changed``, and any later kind) travels the same way.
The envelope follows the Standard Webhooks payload structure::

    {"id": "msg_42", "type": "mentoring.status_changed",
     "timestamp": "2025-01-31T09:12:03.120000Z", "data": { ...the outbox payload... }}

``id`` is the ``webhook-id`` header (stable across retries), ``timestamp`` when the change
was written, and ``data`` the outbox payload unchanged: event_id, kind, sequence (per
mentor, for ordering), hash (the event's link in its mentor's audit chain, hex SHA-256),
mentor {id, display_name, organization_id}, recipient_id, from_status, to_status, reason,
actor, occurred_at, expected_return_date, forced, findings.
The body is the same bytes on every attempt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

WEBHOOK_ID_PREFIX = "msg_"
TYPE_PREFIX = "mentoring."


def webhook_id(outbox_id: int) -> str:
    """The ``webhook-id`` of an outbox row: the same on every attempt, by every relay."""
    return f"{WEBHOOK_ID_PREFIX}{outbox_id}"


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class OutboxMessage:
    """One claimed outbox row: one notification for one recipient."""

    id: int
    event_id: int | None  # the status event; None for notifications about something else
    recipient_id: UUID
    kind: str
    payload: Mapping[str, Any] = field(repr=False)
    created_at: datetime
    attempt: int  # this attempt, counting from 1
    claim_id: UUID
    leased_until: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OutboxMessage:
        """From a ``mentoring.claim_outbox`` row."""
        return cls(
            id=row["id"],
            event_id=row["event_id"],
            recipient_id=row["recipient_id"],
            kind=row["kind"],
            payload=row["payload"],
            created_at=row["created_at"],
            attempt=row["attempts"],
            claim_id=row["claim_id"],
            leased_until=row["leased_until"],
        )

    @property
    def webhook_id(self) -> str:
        return webhook_id(self.id)

    @property
    def mentor_id(self) -> str | None:
        """The mentor the notification is about (rows of one mentor go out in order)."""
        mentor = self.payload.get("mentor")
        return str(mentor.get("id")) if isinstance(mentor, Mapping) else None

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.kind

    def envelope(self) -> dict[str, Any]:
        """The JSON document a sink sends (see the module docstring)."""
        return {
            "id": self.webhook_id,
            "type": self.type,
            "timestamp": iso_utc(self.created_at),
            "data": dict(self.payload),
        }

    @cached_property
    def body(self) -> bytes:
        """The envelope as compact UTF-8 JSON: what is signed and sent."""
        return json.dumps(self.envelope(), separators=(",", ":"), ensure_ascii=False).encode()
