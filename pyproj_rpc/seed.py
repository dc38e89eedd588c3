"""Writing organizations, people, mentors and certifications as the table owner.

For the demo, the benchmarks and the tests. In production, the staffing and
certification features own these rows; pause management only reads them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg

from pyproj_rpc.queries import query


class Seeder:
    """Inserts rows on ``conn`` (in its current transaction)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def _one(self, name: str, params: dict[str, Any]) -> Any:
        row = self.conn.execute(query(name), params).fetchone()
        assert row is not None
        return row[0]

    def user(self, email: str | None = None) -> UUID:
        """A Supabase auth user."""
        user_id: UUID = self._one("seed_user", {"email": email})
        return user_id

    def organization(self, name: str, time_zone: str = "UTC") -> UUID:
        org_id: UUID = self._one("seed_organization", {"name": name, "time_zone": time_zone})
        return org_id

    def staff(self, organization_id: UUID, user_id: UUID, role: str) -> None:
        """Make a user a coordinator or admin of the organization."""
        self.conn.execute(
            query("seed_staff"),
            {"organization_id": organization_id, "user_id": user_id, "role": role},
        )

    def today(self, organization_id: UUID) -> date:
        """Today in the organization's time zone."""
        today: date = self._one("organization_today", {"organization_id": organization_id})
        return today

    def mentor(
        self,
        organization_id: UUID,
        display_name: str,
        *,
        user_id: UUID | None = None,
        certified: bool = True,
        status: str = "active",
    ) -> UUID:
        """A mentor, certified for a year; ``certified=False`` lapses it before today."""
        mentor_id: UUID = self._one(
            "seed_mentor",
            {
                "organization_id": organization_id,
                "user_id": user_id,
                "display_name": display_name,
                "status": status,
            },
        )
        today = self.today(organization_id)
        self.certify(mentor_id, today - timedelta(days=30), today + timedelta(days=335))
        if not certified:
            # Certified when created (checked now rather than at commit), lapsed since.
            self.conn.execute(query("seed_check_new_mentors_now"))
            self.conn.execute(query("seed_check_new_mentors_at_commit"))
            self.lapse(mentor_id)
        return mentor_id

    def certify(self, mentor_id: UUID, first_day: date, lapses_on: date | None) -> None:
        """A certification valid from ``first_day`` up to, not including, ``lapses_on``."""
        self.conn.execute(
            query("seed_certification"),
            {"mentor_id": mentor_id, "first_day": first_day, "lapses_on": lapses_on},
        )

    def lapse(self, mentor_id: UUID) -> None:
        """End every certification of the mentor before today."""
        self.conn.execute(query("seed_lapse"), {"mentor_id": mentor_id})

    def assign(self, mentor_id: UUID, coordinator_id: UUID) -> None:
        """Assign a coordinator (staff of the mentor's organization) to the mentor."""
        self.conn.execute(
            query("seed_assignment"), {"mentor_id": mentor_id, "coordinator_id": coordinator_id}
        )
