"""Setting up a real organization: its staff, mentors, assignments and certifications.

On hosted Supabase the staffing and certification features own these tables; this is the
supported path for everyone else (and for evaluations). Everything is written as the
tables' owner, through the same constraints and triggers as any other writer, and the
state machine is never bypassed: no status is written, except a new mentor's first one
(``active`` only with a certification covering the organization's today, else
``expired_cert``). A certification that lapses leaves the status alone: the expiry sweep
moves the mentor. docs/integration.md is the contract.

Every refusal is a :class:`RosterError` with a stable ``code``; a refused change leaves
nothing behind (each change is one transaction, or one savepoint of an import).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from pyproj_rpc.api_errors import InvalidInput, from_database_error, from_unencodable_text
from pyproj_rpc.calls import storable_text
from pyproj_rpc.errors import PyprojRpcError
from pyproj_rpc.queries import pinned_search_path, query

STAFF_ROLES = ("admin", "coordinator")
MAX_NAME_LENGTH = 200  # organizations.name, mentors.display_name
MAX_EMAIL_LENGTH = 320
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

Action = Literal["created", "updated", "unchanged", "removed"]

# Codes of input that is wrong on its own (exit 2); every other code is a refusal that
# depends on what the database holds (exit 3).
INPUT_CODES = frozenset(
    {"invalid_input", "invalid_file", "not_migrated", "not_the_owner", "auth_is_supabase"}
)


class RosterError(PyprojRpcError):
    """A roster change refused, with a stable ``code``; nothing was changed."""

    def __init__(
        self, code: str, message: str, *, details: dict[str, Any] | None = None, hint: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.hint = hint

    @property
    def is_input_error(self) -> bool:
        """Wrong input or setup (exit 2), rather than a refusal by the data (exit 3)."""
        return self.code in INPUT_CODES

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "hint": self.hint or None,
        }


def invalid(field_name: str, message: str) -> RosterError:
    return RosterError("invalid_input", message, details={"field": field_name})


# -- input ------------------------------------------------------------------------------


def clean_name(value: str | None, field_name: str) -> str:
    """A name as the tables hold it: trimmed, 1-200 characters, storable."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise invalid(field_name, f"{field_name} is required")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise invalid(
            field_name, f"{field_name} is {len(cleaned)} characters long; the limit is 200"
        )
    return storable(cleaned, field_name)


def clean_optional_text(value: str | None, field_name: str) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_NAME_LENGTH:
        raise invalid(
            field_name, f"{field_name} is {len(cleaned)} characters long; the limit is 200"
        )
    return storable(cleaned, field_name)


def storable(value: str, field_name: str) -> str:
    try:
        return storable_text(value, field_name)
    except InvalidInput as exc:
        raise invalid(field_name, exc.message) from exc


def clean_email(value: str, field_name: str = "email") -> str:
    """An email as Supabase Auth keeps it: trimmed, lower case."""
    cleaned = storable(value.strip().lower(), field_name)
    if not EMAIL.match(cleaned) or len(cleaned) > MAX_EMAIL_LENGTH:
        raise invalid(field_name, f"{field_name}: {value!r} is not an email address")
    return cleaned


def parse_uuid(value: str, field_name: str) -> UUID:
    try:
        return UUID(value.strip())
    except ValueError:
        raise invalid(field_name, f"{field_name}: {value!r} is not a UUID") from None


def parse_date(value: str, field_name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise invalid(field_name, f"{field_name}: {value!r} is not a date (YYYY-MM-DD)") from None


def clean_role(value: str | None) -> str:
    role = (value or "").strip().lower()
    if role not in STAFF_ROLES:
        raise invalid("role", f"role: {value!r} is not one of {', '.join(STAFF_ROLES)}")
    return role


@dataclass(frozen=True)
class UserRef:
    """An ``auth.users`` row, by id and/or email."""

    user_id: UUID | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if self.user_id is None and self.email is None:
            raise invalid("user", "name a user: a user id or an email")

    @classmethod
    def parse(cls, text: str, field_name: str) -> UserRef:
        """A user id, or an email (anything with an ``@``)."""
        if "@" in text:
            return cls(email=clean_email(text, field_name))
        return cls(user_id=parse_uuid(text, field_name))

    def __str__(self) -> str:
        return self.email or str(self.user_id)


@dataclass(frozen=True)
class Validity:
    """Certified from ``valid_from`` through ``valid_until`` (the last day; None: no end)."""

    valid_from: date
    valid_until: date | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise invalid(
                "valid_until",
                f"valid_until ({self.valid_until}) is before valid_from ({self.valid_from})",
            )

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one write did: ``kind`` of row, ``action``, its id, and a note for people."""

    kind: str
    action: Action
    id: str
    label: str
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "action": self.action,
            "id": self.id,
            "label": self.label,
        }
        data.update(self.details)
        if self.note:
            data["note"] = self.note
        return data

    def line(self) -> str:
        note = f"\n  note: {self.note}" if self.note else ""
        return f"{self.action} {self.kind} {self.label} ({self.id}){note}"


@dataclass(frozen=True)
class Organization:
    id: UUID
    name: str
    time_zone: str


@dataclass(frozen=True)
class Mentor:
    id: UUID
    organization_id: UUID
    user_id: UUID | None
    display_name: str
    status: str


@dataclass(frozen=True)
class Certification:
    id: UUID
    mentor_id: UUID
    organization_id: UUID
    valid_from: date
    valid_until: date | None
    name: str | None


# -- database errors --------------------------------------------------------------------

CONSTRAINT_CODES = {
    "23505": "already_exists",
    "23503": "not_found",
    "23514": "invalid_input",
    "23502": "invalid_input",
}


def from_psycopg(exc: psycopg.Error) -> RosterError | None:
    """The roster refusal a database error stands for (None: unexpected, re-raised)."""
    sqlstate = exc.sqlstate or ""
    message = exc.diag.message_primary or str(exc)
    if sqlstate in CONSTRAINT_CODES:
        details: dict[str, Any] = {"constraint": exc.diag.constraint_name}
        return RosterError(CONSTRAINT_CODES[sqlstate], message, details=details)
    if sqlstate == "42501":
        return RosterError(
            "not_the_owner",
            f"the database refused: {message}",
            hint="connect as the owner of the mentoring schema (the role that ran the migrations)",
        )
    contract = from_database_error(exc)
    if contract is not None:
        details = contract.details if isinstance(contract.details, dict) else {}
        return RosterError(
            contract.code, contract.message, details=details, hint=contract.hint or ""
        )
    return None


@contextmanager
def database_errors() -> Iterator[None]:
    """Database refusals as :class:`RosterError`, the psycopg error kept as the cause."""
    try:
        yield
    except psycopg.Error as exc:
        mapped = from_psycopg(exc)
        if mapped is None:
            raise
        raise mapped from exc
    except UnicodeEncodeError as exc:  # a lone surrogate psycopg cannot send
        raise RosterError("invalid_input", from_unencodable_text(exc).message) from exc


# -- the roster -------------------------------------------------------------------------


class Roster:
    """Roster reads and writes on ``conn``, as the role it is connected as (the owner).

    Writes happen inside :meth:`change`; each method returns what it did as
    :class:`Outcome` objects.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._auth_is_supabase: bool | None = None

    # -- plumbing

    def _rows(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(name), params or {})
            return cur.fetchall() if cur.description else []

    def _row(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        rows = self._rows(name, params)
        return rows[0] if rows else None

    def _run(self, name: str, params: dict[str, Any] | None = None) -> None:
        self.conn.execute(query(name), params or {})

    def check_ready(self) -> None:
        """Refuse an unmigrated database, or a role that is not the tables' owner."""
        with self.transaction():
            present = self._row("roster_schema_present")
            if not (present and present["present"]):
                raise RosterError(
                    "not_migrated",
                    "the database has no mentoring schema",
                    hint="run `pyproj-rpc db upgrade` first",
                )
            access = self._row("roster_may_write")
        if not (access and access["may_write"]):
            connected = access["connected_as"] if access else "this role"
            owner = access["owner"] if access else "the owner"
            raise RosterError(
                "not_the_owner",
                f"{connected} does not own the mentoring tables ({owner} does): roster writes "
                "run as the owner, through the tables' constraints and triggers",
                details={"connected_as": connected, "owner": owner},
                hint=f"connect as {owner} (on Supabase: the postgres user)",
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction (a savepoint inside one) whose names resolve in pg_catalog first,
        whatever the login's search_path holds: roster work runs as the owner."""
        with database_errors(), pinned_search_path(self.conn):
            yield

    @contextmanager
    def change(self) -> Iterator[None]:
        """One all-or-nothing change, serialized with other roster writers; new mentors'
        certification is checked at its end."""
        with self.transaction():
            self._run("roster_lock")
            yield
            # The commit-time check of new active mentors, now: inside an import's dry run
            # the commit never comes, and a row's refusal must stay that row's.
            self._run("roster_check_new_mentors_now")
            self._run("roster_check_new_mentors_at_commit")

    # -- organizations

    def organization(self, ref: str) -> Organization:
        """An organization by id, or by its exact name (which must be unique)."""
        text = storable(ref.strip(), "organization")
        try:
            by_id = self._row("roster_organization_by_id", {"id": UUID(text)})
        except ValueError:
            by_id = None
        if by_id is not None:
            return Organization(**by_id)
        found = self._rows("roster_organizations_by_name", {"name": text})
        if not found:
            raise RosterError(
                "organization_not_found",
                f"no organization {text!r}",
                details={"organization": text},
                hint="create it with `pyproj-rpc roster org create`",
            )
        if len(found) > 1:
            raise RosterError(
                "organization_ambiguous",
                f"{len(found)} organizations are named {text!r}: use the id",
                details={"organization": text, "ids": [str(row["id"]) for row in found]},
            )
        return Organization(**found[0])

    def _check_time_zone(self, time_zone: str) -> str:
        cleaned = storable(time_zone.strip(), "time_zone")
        row = self._row("roster_is_time_zone", {"time_zone": cleaned})
        if not (row and row["known"]):
            raise RosterError(
                "invalid_input",
                f"time_zone: {time_zone!r} is not a time zone PostgreSQL knows",
                details={"field": "time_zone"},
                hint="an IANA name such as Europe/Paris, America/Chicago or UTC",
            )
        return cleaned

    def create_organization(self, name: str, time_zone: str = "UTC") -> Outcome:
        """A new organization; refused when one has that name already."""
        name = clean_name(name, "name")
        time_zone = self._check_time_zone(time_zone)
        existing = self._rows("roster_organizations_by_name", {"name": name})
        if existing:
            raise RosterError(
                "organization_exists",
                f"an organization named {name!r} exists already",
                details={"organization_id": str(existing[0]["id"])},
                hint="names identify organizations in imports: choose another one",
            )
        return self._insert_organization(name, time_zone)

    def _insert_organization(self, name: str, time_zone: str) -> Outcome:
        row = self._row("roster_insert_organization", {"name": name, "time_zone": time_zone})
        assert row is not None
        return Outcome(
            "organization", "created", str(row["id"]), name, details={"time_zone": time_zone}
        )

    def ensure_organization(self, name: str, time_zone: str | None) -> Outcome:
        """The organization of that name: created, or its time zone brought up to date."""
        name = clean_name(name, "organization")
        zone = self._check_time_zone(time_zone) if time_zone else None
        found = self._rows("roster_organizations_by_name", {"name": name})
        if not found:
            return self._insert_organization(name, zone or "UTC")
        org = self.organization(name)  # refuses several of that name
        if zone is None or zone == org.time_zone:
            return Outcome(
                "organization", "unchanged", str(org.id), name, details={"time_zone": org.time_zone}
            )
        self._run("roster_set_time_zone", {"id": org.id, "time_zone": zone})
        return Outcome(
            "organization",
            "updated",
            str(org.id),
            name,
            note=f"time zone {org.time_zone} -> {zone}: dates are now this zone's",
            details={"time_zone": zone},
        )

    def today(self, organization_id: UUID) -> date:
        row = self._row("roster_organization_today", {"organization_id": organization_id})
        assert row is not None
        today: date = row["today"]
        return today

    # -- users

    def auth_is_supabase(self) -> bool:
        if self._auth_is_supabase is None:
            row = self._row("roster_auth_is_supabase")
            self._auth_is_supabase = bool(row and row["supabase"])
        return self._auth_is_supabase

    def user(self, ref: UserRef, *, create: bool = False) -> tuple[UUID, Outcome | None]:
        """The ``auth.users`` id of ``ref``; with ``create``, a new local user for an email
        nobody has (never on Supabase Auth). The outcome says when a user was created."""
        if ref.user_id is not None:
            row = self._row("roster_user_by_id", {"id": ref.user_id})
            if row is None:
                raise RosterError(
                    "user_not_found",
                    f"no user {ref.user_id} in auth.users",
                    details={"user_id": str(ref.user_id)},
                    hint="create the user in Supabase Auth first (or, in development, "
                    "pass an email with --create-user)",
                )
            if ref.email is not None and (row["email"] or "").lower() != ref.email:
                raise RosterError(
                    "user_mismatch",
                    f"user {ref.user_id} has the email {row['email']!r}, not {ref.email!r}",
                    details={"user_id": str(ref.user_id), "email": ref.email},
                )
            return ref.user_id, None
        assert ref.email is not None
        found = self._rows("roster_users_by_email", {"email": ref.email})
        if len(found) > 1:
            raise RosterError(
                "user_ambiguous",
                f"{len(found)} users have the email {ref.email!r}: use the user id",
                details={"email": ref.email, "user_ids": [str(row["id"]) for row in found]},
            )
        if found:
            user_id: UUID = found[0]["id"]
            return user_id, None
        if not create:
            raise RosterError(
                "user_not_found",
                f"no user with the email {ref.email!r} in auth.users",
                details={"email": ref.email},
                hint="create the user in Supabase Auth first (in development, "
                "--create-user or an import's --create-users makes a local one)",
            )
        if self.auth_is_supabase():
            raise RosterError(
                "auth_is_supabase",
                "this database's auth.users belongs to Supabase Auth: roster creates no "
                "users there",
                details={"email": ref.email},
                hint="invite or create the user in Supabase Auth (dashboard or admin API), "
                "then pass their id",
            )
        row = self._row("roster_insert_user", {"email": ref.email})
        assert row is not None
        created: UUID = row["id"]
        return created, Outcome("user", "created", str(created), ref.email)

    # -- staff

    def ensure_staff(
        self, org: Organization, who: UserRef, role: str, *, create_user: bool = False
    ) -> list[Outcome]:
        """Make a user an admin or coordinator of ``org`` (created, role updated, unchanged)."""
        role = clean_role(role)
        user_id, created_user = self.user(who, create=create_user)
        outcomes = [created_user] if created_user else []
        label = f"{who} ({role} of {org.name})"
        current = self._row("roster_staff_role", {"organization_id": org.id, "user_id": user_id})
        params = {"organization_id": org.id, "user_id": user_id, "role": role}
        details = {"organization_id": str(org.id), "user_id": str(user_id), "role": role}
        if current is None:
            self._run("roster_insert_staff", params)
            outcomes.append(Outcome("staff", "created", str(user_id), label, details=details))
        elif current["role"] != role:
            self._run("roster_set_staff_role", params)
            outcomes.append(
                Outcome(
                    "staff",
                    "updated",
                    str(user_id),
                    label,
                    note=f"was {current['role']}",
                    details=details,
                )
            )
        else:
            outcomes.append(Outcome("staff", "unchanged", str(user_id), label, details=details))
        return outcomes

    # -- mentors

    def mentor(self, mentor_id: UUID) -> Mentor:
        row = self._row("roster_mentor_by_id", {"id": mentor_id})
        if row is None:
            raise RosterError(
                "mentor_not_found", f"no mentor {mentor_id}", details={"mentor_id": str(mentor_id)}
            )
        return Mentor(**row)

    def find_mentor(self, org: Organization, ref: str) -> Mentor:
        """A mentor of ``org`` by mentor id, by their user's email, or by display name."""
        text = storable(ref.strip(), "mentor")
        if "@" in text:
            user_id, _ = self.user(UserRef(email=clean_email(text, "mentor")))
            row = self._row("roster_mentor_by_user", {"user_id": user_id})
            rows = [row] if row else []
        else:
            try:
                row = self._row("roster_mentor_by_id", {"id": UUID(text)})
                rows = [row] if row else []
            except ValueError:
                rows = self._rows(
                    "roster_mentors_by_name",
                    {"organization_id": org.id, "display_name": text, "without_user": False},
                )
        rows = [r for r in rows if r["organization_id"] == org.id]
        if not rows:
            raise RosterError(
                "mentor_not_found",
                f"no mentor {text!r} in {org.name}",
                details={"mentor": text, "organization_id": str(org.id)},
            )
        if len(rows) > 1:
            raise RosterError(
                "mentor_ambiguous",
                f"{len(rows)} mentors of {org.name} are named {text!r}: use the id or email",
                details={"mentor": text, "ids": [str(r["id"]) for r in rows]},
            )
        return Mentor(**rows[0])

    def add_mentor(
        self,
        org: Organization,
        display_name: str,
        who: UserRef | None = None,
        certification: Validity | None = None,
        *,
        create_user: bool = False,
    ) -> list[Outcome]:
        """A new mentor (and their first certification); refused for a user who is a mentor."""
        display_name = clean_name(display_name, "name")
        user_id, outcomes, existing = self._mentor_user(who, create_user)
        if existing is not None:
            raise self._already_a_mentor(who, existing)
        return outcomes + self._insert_mentor(org, display_name, user_id, certification)

    def ensure_mentor(
        self,
        org: Organization,
        display_name: str,
        who: UserRef | None = None,
        certification: Validity | None = None,
        *,
        create_user: bool = False,
    ) -> list[Outcome]:
        """The mentor of this user (or, without one, of this name in ``org``): created, or
        their name and certification brought up to date. Never their status."""
        display_name = clean_name(display_name, "name")
        user_id, outcomes, mentor = self._mentor_user(who, create_user)
        if mentor is not None and mentor.organization_id != org.id:
            raise self._already_a_mentor(who, mentor)
        if user_id is None:
            rows = self._rows(
                "roster_mentors_by_name",
                {"organization_id": org.id, "display_name": display_name, "without_user": True},
            )
            if len(rows) > 1:
                raise RosterError(
                    "mentor_ambiguous",
                    f"{len(rows)} mentors of {org.name} without a user are named {display_name!r}",
                    details={"ids": [str(r["id"]) for r in rows]},
                    hint="give each a user (email), or rename one",
                )
            mentor = Mentor(**rows[0]) if rows else None
        if mentor is None:
            return outcomes + self._insert_mentor(org, display_name, user_id, certification)
        details = {"organization_id": str(org.id), "status": mentor.status}
        if mentor.display_name != display_name:
            self._run("roster_set_mentor_name", {"id": mentor.id, "display_name": display_name})
            outcomes.append(
                Outcome(
                    "mentor",
                    "updated",
                    str(mentor.id),
                    display_name,
                    note=f"was named {mentor.display_name!r}",
                    details=details,
                )
            )
        else:
            outcomes.append(
                Outcome("mentor", "unchanged", str(mentor.id), display_name, details=details)
            )
        if certification is not None:
            outcomes.append(self.ensure_certification(mentor, certification))
        return outcomes

    def _mentor_user(
        self, who: UserRef | None, create_user: bool
    ) -> tuple[UUID | None, list[Outcome], Mentor | None]:
        """The mentor's user (created if asked, and its outcome), and the mentor that user
        already is, if any."""
        if who is None:
            return None, [], None
        user_id, created = self.user(who, create=create_user)
        row = self._row("roster_mentor_by_user", {"user_id": user_id})
        return user_id, [created] if created else [], Mentor(**row) if row else None

    @staticmethod
    def _already_a_mentor(who: UserRef | None, mentor: Mentor) -> RosterError:
        return RosterError(
            "user_already_a_mentor",
            f"{who} is already the mentor {mentor.display_name!r} ({mentor.id})",
            details={"mentor_id": str(mentor.id), "organization_id": str(mentor.organization_id)},
            hint="a user is at most one mentor (mentors.user_id is unique)",
        )

    def _insert_mentor(
        self,
        org: Organization,
        display_name: str,
        user_id: UUID | None,
        certification: Validity | None,
    ) -> list[Outcome]:
        today = self.today(org.id)
        # The only status roster writes: the first one. Active needs a certification
        # covering today, recorded in the same transaction (checked at its end).
        status = "active" if certification and certification.covers(today) else "expired_cert"
        row = self._row(
            "roster_insert_mentor",
            {
                "organization_id": org.id,
                "user_id": user_id,
                "display_name": display_name,
                "status": status,
            },
        )
        assert row is not None
        mentor_id: UUID = row["id"]
        note = None
        if status == "expired_cert":
            note = (
                "starts expired_cert (no certification covering today); once one is "
                "recorded, a coordinator or admin reactivates them"
            )
        details: dict[str, Any] = {"organization_id": str(org.id), "status": status}
        if user_id is not None:
            details["user_id"] = str(user_id)
        outcomes = [Outcome("mentor", "created", str(mentor_id), display_name, note, details)]
        if certification is not None:
            mentor = Mentor(mentor_id, org.id, user_id, display_name, status)
            outcomes.append(self._insert_certification(mentor, certification, note=False))
        return outcomes

    # -- coordinators

    def assign(self, mentor_id: UUID, coordinator: UserRef) -> Outcome:
        """Assign a staff member of the mentor's organization to the mentor."""
        mentor = self.mentor(mentor_id)
        user_id, _ = self.user(coordinator)
        role = self._row(
            "roster_staff_role", {"organization_id": mentor.organization_id, "user_id": user_id}
        )
        if role is None:
            raise RosterError(
                "not_staff",
                f"{coordinator} is not staff of the mentor's organization",
                details={"user_id": str(user_id), "organization_id": str(mentor.organization_id)},
                hint="add them first: `pyproj-rpc roster staff add ... --role coordinator`",
            )
        params = {"mentor_id": mentor.id, "coordinator_id": user_id}
        label = f"{coordinator} -> {mentor.display_name}"
        ids = f"{mentor.id}/{user_id}"
        if self._row("roster_is_assigned", params) == {"assigned": True}:
            return Outcome("assignment", "unchanged", ids, label)
        self._run("roster_assign", params)
        return Outcome("assignment", "created", ids, label)

    def unassign(self, mentor_id: UUID, coordinator: UserRef) -> Outcome:
        mentor = self.mentor(mentor_id)
        user_id, _ = self.user(coordinator)
        params = {"mentor_id": mentor.id, "coordinator_id": user_id}
        label = f"{coordinator} -> {mentor.display_name}"
        ids = f"{mentor.id}/{user_id}"
        if self._row("roster_is_assigned", params) != {"assigned": True}:
            return Outcome("assignment", "unchanged", ids, label, note="was not assigned")
        self._run("roster_unassign", params)
        return Outcome("assignment", "removed", ids, label)

    # -- certifications

    def certification(self, certification_id: UUID) -> Certification:
        row = self._row("roster_certification_by_id", {"id": certification_id})
        if row is None:
            raise RosterError(
                "certification_not_found",
                f"no certification {certification_id}",
                details={"certification_id": str(certification_id)},
            )
        return Certification(**row)

    def record_certification(self, mentor_id: UUID, validity: Validity) -> Outcome:
        """A new certification of the mentor (another may overlap: coverage is their union)."""
        return self._insert_certification(self.mentor(mentor_id), validity)

    def ensure_certification(self, mentor: Mentor, validity: Validity) -> Outcome:
        """The mentor's certification starting on ``valid_from``: created, or its last day
        and name brought up to date."""
        found = self._rows(
            "roster_certifications_starting",
            {"mentor_id": mentor.id, "valid_from": validity.valid_from},
        )
        if not found:
            return self._insert_certification(mentor, validity)
        if len(found) > 1:
            raise RosterError(
                "certification_ambiguous",
                f"{mentor.display_name} has {len(found)} certifications starting "
                f"{validity.valid_from}",
                details={"ids": [str(row["id"]) for row in found]},
            )
        current = Certification(**found[0])
        if (current.valid_until, current.name) == (validity.valid_until, validity.name):
            return self._certification_outcome("unchanged", mentor, current.id, validity, False)
        return self._update_certification(mentor, current, validity)

    def extend_certification(self, certification_id: UUID, valid_until: date | None) -> Outcome:
        """A later last day (None: no end)."""
        current = self.certification(certification_id)
        if current.valid_until is None or (
            valid_until is not None and valid_until <= current.valid_until
        ):
            raise RosterError(
                "not_an_extension",
                f"the certification runs until {current.valid_until or 'further notice'}; "
                f"{valid_until or 'no end'} does not extend it",
                details={
                    "certification_id": str(current.id),
                    "valid_until": current.valid_until and current.valid_until.isoformat(),
                },
                hint="to shorten it, use `roster cert end`",
            )
        validity = Validity(current.valid_from, valid_until, current.name)
        return self._update_certification(self.mentor(current.mentor_id), current, validity)

    def end_certification(self, certification_id: UUID, last_day: date | None = None) -> Outcome:
        """An earlier last day: by default yesterday in the organization's time zone, so the
        mentor is not certified by it from today on."""
        current = self.certification(certification_id)
        last_day = last_day or self.today(current.organization_id) - timedelta(days=1)
        if current.valid_until is not None and last_day >= current.valid_until:
            raise RosterError(
                "not_an_end",
                f"the certification ends on {current.valid_until} already; {last_day} is "
                "not earlier",
                details={"certification_id": str(current.id)},
                hint="to lengthen it, use `roster cert extend`",
            )
        if last_day < current.valid_from:
            raise RosterError(
                "not_an_end",
                f"the certification starts on {current.valid_from}: it cannot end on "
                f"{last_day}, before it starts",
                details={"certification_id": str(current.id)},
            )
        validity = Validity(current.valid_from, last_day, current.name)
        return self._update_certification(self.mentor(current.mentor_id), current, validity)

    def _insert_certification(
        self, mentor: Mentor, validity: Validity, *, note: bool = True
    ) -> Outcome:
        row = self._row(
            "roster_insert_certification",
            {
                "mentor_id": mentor.id,
                "valid_from": validity.valid_from,
                "valid_until": validity.valid_until,
                "name": validity.name,
            },
        )
        assert row is not None
        return self._certification_outcome("created", mentor, row["id"], validity, note)

    def _update_certification(
        self, mentor: Mentor, current: Certification, validity: Validity
    ) -> Outcome:
        self._run(
            "roster_update_certification",
            {
                "id": current.id,
                "valid_from": validity.valid_from,
                "valid_until": validity.valid_until,
                "name": validity.name,
            },
        )
        return self._certification_outcome("updated", mentor, current.id, validity, True)

    def _certification_outcome(
        self, action: Action, mentor: Mentor, certification_id: UUID, validity: Validity, note: bool
    ) -> Outcome:
        until = validity.valid_until.isoformat() if validity.valid_until else None
        label = f"{mentor.display_name} {validity.valid_from} .. {until or 'no end'}"
        details = {
            "mentor_id": str(mentor.id),
            "valid_from": validity.valid_from.isoformat(),
            "valid_until": until,
            "name": validity.name,
        }
        return Outcome(
            "certification",
            action,
            str(certification_id),
            label,
            self.status_note(mentor.id) if note and action != "unchanged" else None,
            details,
        )

    def status_note(self, mentor_id: UUID) -> str | None:
        """What a certification change means for the mentor's status: nothing right away."""
        mentor = self.mentor(mentor_id)
        row = self._row("roster_certified_today", {"mentor_id": mentor_id})
        certified = bool(row and row["certified"])
        if mentor.status == "expired_cert" and certified:
            return (
                "certified today but still expired_cert: a coordinator or admin reactivates "
                "them (`pyproj-rpc mentor reactivate`)"
            )
        if mentor.status != "expired_cert" and not certified:
            return (
                f"not certified today but still {mentor.status}: the expiry sweep moves them "
                "to expired_cert (`pyproj-rpc expire-certifications`, or its schedule)"
            )
        return None

    # -- reading it all

    def listing(self, org_ref: str | None = None) -> dict[str, Any]:
        """Every organization (or one) with its staff, mentors, coordinators, certifications."""
        with self.transaction():
            org_id = self.organization(org_ref).id if org_ref else None
            orgs = self._rows("roster_list_organizations", {"organization_id": org_id})
            ids = [o["id"] for o in orgs]
            staff = self._rows("roster_list_staff", {"organization_ids": ids})
            mentors = self._rows("roster_list_mentors", {"organization_ids": ids})
            certifications = self._rows("roster_list_certifications", {"organization_ids": ids})
        result = []
        for org in orgs:
            org_mentors = []
            for m in (m for m in mentors if m["organization_id"] == org["id"]):
                org_mentors.append(
                    {
                        "id": m["id"],
                        "display_name": m["display_name"],
                        "user_id": m["user_id"],
                        "email": m["email"],
                        "status": m["status"],
                        "certified_through": m["certified_through"],
                        "coordinators": m["coordinators"],
                        "certifications": [
                            {k: c[k] for k in ("id", "valid_from", "valid_until", "name")}
                            for c in certifications
                            if c["mentor_id"] == m["id"]
                        ],
                    }
                )
            result.append(
                {
                    "id": org["id"],
                    "name": org["name"],
                    "time_zone": org["time_zone"],
                    "today": org["today"],
                    "staff": [
                        {k: s[k] for k in ("user_id", "email", "role")}
                        for s in staff
                        if s["organization_id"] == org["id"]
                    ],
                    "mentors": org_mentors,
                }
            )
        return {"organizations": result}


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection for roster work: each :meth:`Roster.change` is its own transaction
    (autocommit otherwise), no prepared statements (poolers are fine)."""
    return psycopg.connect(url, autocommit=True, prepare_threshold=None)


def run_change(url: str, action: Any, *args: Any, **kwargs: Any) -> list[Outcome]:
    """``action(roster, ...)`` as one committed change on ``url``; its outcomes."""
    with connect(url) as conn:
        roster = Roster(conn)
        roster.check_ready()
        with roster.change():
            result = action(roster, *args, **kwargs)
    return list(result) if isinstance(result, Sequence) else [result]
