"""``pyproj-rpc roster import``: a whole roster from a CSV or JSON file, idempotent.

One record per row, each naming its ``kind`` (docs/roster-import.md has the format and
examples/roster.csv an example). Every row is found by its natural key and created,
updated or left unchanged, so a second run of the same file changes nothing:

- organization: its name;  staff: organization + user (id or email);
- mentor: their user (id or email), or, without one, organization + display name;
- assignment: mentor + coordinator;  certification: mentor + first day (``valid_from``).

The whole file is checked first: one malformed row and nothing is applied. Then each row
is one all-or-nothing change (a savepoint of one transaction with ``dry_run``), and a row
refused by what the database holds is reported with its code while the others go on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj_rpc.roster import (
    Outcome,
    Roster,
    RosterError,
    UserRef,
    Validity,
    clean_email,
    clean_optional_text,
    clean_role,
    connect,
    invalid,
    parse_date,
    parse_uuid,
)

COLUMNS = (
    "kind",
    "organization",
    "time_zone",
    "name",
    "email",
    "user_id",
    "role",
    "mentor",
    "coordinator",
    "valid_from",
    "valid_until",
    "certification",
)
# kind -> (required columns, optional columns)
KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "organization": (frozenset({"organization"}), frozenset({"time_zone"})),
    "staff": (frozenset({"organization", "role"}), frozenset({"email", "user_id"})),
    "mentor": (
        frozenset({"organization", "name"}),
        frozenset({"email", "user_id", "valid_from", "valid_until", "certification"}),
    ),
    "assignment": (frozenset({"organization", "mentor", "coordinator"}), frozenset()),
    "certification": (
        frozenset({"organization", "mentor", "valid_from"}),
        frozenset({"valid_until", "certification"}),
    ),
}
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Record:
    """One row of the file: its number (1 = the first after a CSV header) and its cells."""

    number: int
    values: dict[str, str]

    @property
    def kind(self) -> str:
        return self.values.get("kind", "")

    def get(self, column: str) -> str | None:
        return self.values.get(column)

    def key(self) -> str:
        """The row's natural key, for people."""
        v = self.values
        who = v.get("email") or v.get("user_id")
        org = v.get("organization", "")
        if self.kind == "organization":
            return org
        if self.kind == "staff":
            return f"{org}: {who} ({v.get('role', '')})"
        if self.kind == "mentor":
            return f"{org}: {v.get('name', '')}" + (f" <{who}>" if who else "")
        if self.kind == "assignment":
            return f"{org}: {v.get('mentor', '')} <- {v.get('coordinator', '')}"
        return f"{org}: {v.get('mentor', '')} from {v.get('valid_from', '')}"


@dataclass
class RowReport:
    """What one row did (created, updated, unchanged), or why not (refused, invalid)."""

    row: int
    kind: str
    key: str
    action: str = "pending"
    code: str | None = None
    message: str | None = None
    hint: str | None = None
    changes: list[Outcome] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "row": self.row,
            "kind": self.kind,
            "key": self.key,
            "action": self.action,
        }
        if self.code:
            data |= {"code": self.code, "message": self.message, "hint": self.hint}
        data["changes"] = [outcome.to_dict() for outcome in self.changes]
        return data

    def line(self) -> str:
        head = f"row {self.row}: {self.action} {self.kind} {self.key}"
        if self.code:
            head += f"\n  {self.code}: {self.message}" + (
                f"\n  hint: {self.hint}" if self.hint else ""
            )
        for outcome in self.changes:
            if outcome.action != "unchanged":
                head += f"\n  {outcome.line()}".replace("\n  note:", "\n    note:")
        return head


@dataclass
class ImportReport:
    rows: list[RowReport]
    applied: bool
    dry_run: bool

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.action] = counts.get(row.action, 0) + 1
        return counts

    @property
    def invalid(self) -> bool:
        return any(row.action == "invalid" for row in self.rows)

    @property
    def refused(self) -> bool:
        return any(row.action == "refused" for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "rows": [row.to_dict() for row in self.rows],
        }

    def summary(self) -> str:
        counts = ", ".join(f"{n} {action}" for action, n in sorted(self.counts().items()))
        if self.invalid:
            return f"nothing applied: the file has invalid rows ({counts})"
        verb = "would be" if self.dry_run else "rows"
        return f"{len(self.rows)} {verb}: {counts}" + (
            " (dry run: nothing changed)" if self.dry_run else ""
        )


# -- reading ----------------------------------------------------------------------------


def read_records(path: Path, fmt: str | None = None) -> list[Record]:
    """The file's rows, with blank cells dropped; refuses a file it cannot read."""
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise RosterError(
            "invalid_file",
            f"{path}: cannot tell the format; name the file .csv or .json, or pass --format",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError("invalid_file", f"cannot read {path}: {exc}") from exc
    raw = _csv_rows(path, text) if fmt == "csv" else _json_rows(path, text)
    records = []
    for number, cells in enumerate(raw, start=1):
        unknown = sorted(set(cells) - set(COLUMNS))
        if unknown:
            raise RosterError(
                "invalid_file",
                f"{path}: unknown column(s) {', '.join(unknown)}; the columns are "
                + ", ".join(COLUMNS),
                details={"row": number, "columns": unknown},
            )
        values = {k: v.strip() for k, v in cells.items() if v is not None and v.strip()}
        if values.get("kind", "").startswith("#"):
            continue  # a comment row
        records.append(Record(number, values))
    return records


def _csv_rows(path: Path, text: str) -> list[dict[str, str | None]]:
    try:
        reader = csv.DictReader(text.splitlines(), strict=True)
        rows = list(reader)
    except csv.Error as exc:
        raise RosterError("invalid_file", f"{path}: not valid CSV: {exc}") from exc
    if not reader.fieldnames or "kind" not in reader.fieldnames:
        raise RosterError("invalid_file", f"{path}: the first line must be a header with 'kind'")
    for number, row in enumerate(rows, start=1):
        if None in row:
            raise RosterError(
                "invalid_file",
                f"{path}: row {number} has more cells than the header",
                details={"row": number},
            )
    return [{k: v for k, v in row.items() if k} for row in rows]


def _json_rows(path: Path, text: str) -> list[dict[str, str | None]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RosterError("invalid_file", f"{path}: not valid JSON: {exc}") from exc
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise RosterError(
            "invalid_file", f"{path}: expected a list of rows, or an object with 'rows'"
        )
    result = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not all(
            isinstance(v, str) or v is None for v in row.values()
        ):
            raise RosterError(
                "invalid_file",
                f"{path}: row {number} must be an object of strings (or null)",
                details={"row": number},
            )
        result.append(row)
    return result


# -- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """A checked row and the change it makes."""

    record: Record
    apply: Callable[[Roster, bool], list[Outcome]]


def plan(record: Record) -> Planned:
    """Check a row on its own (no database): its kind, its columns, every value's form."""
    kind = record.kind
    if kind not in KINDS:
        raise invalid("kind", f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    required, optional = KINDS[kind]
    missing = sorted(required - set(record.values))
    if missing:
        raise invalid(missing[0], f"a {kind} row needs {', '.join(missing)}")
    extra = sorted(set(record.values) - required - optional - {"kind"})
    if extra:
        raise invalid(extra[0], f"a {kind} row has no {', '.join(extra)} (leave it empty)")
    get = record.get
    org = get("organization") or ""
    if kind == "organization":
        time_zone = get("time_zone")
        return Planned(record, lambda r, _: [r.ensure_organization(org, time_zone)])
    if kind == "staff":
        who = user_ref(record, required=True)
        assert who is not None
        role = clean_role(get("role"))
        return Planned(
            record,
            lambda r, create: r.ensure_staff(r.organization(org), who, role, create_user=create),
        )
    if kind == "mentor":
        name = get("name") or ""
        someone = user_ref(record, required=False)
        validity = validity_of(record) if get("valid_from") else None
        if validity is None and (get("valid_until") or get("certification")):
            raise invalid("valid_from", "a certification needs valid_from")
        return Planned(
            record,
            lambda r, create: r.ensure_mentor(
                r.organization(org), name, someone, validity, create_user=create
            ),
        )
    mentor_ref = get("mentor") or ""
    if kind == "assignment":
        coordinator = UserRef.parse(get("coordinator") or "", "coordinator")

        def assign(r: Roster, _: bool) -> list[Outcome]:
            mentor = r.find_mentor(r.organization(org), mentor_ref)
            return [r.assign(mentor.id, coordinator)]

        return Planned(record, assign)
    validity = validity_of(record)

    def certify(r: Roster, _: bool) -> list[Outcome]:
        mentor = r.find_mentor(r.organization(org), mentor_ref)
        return [r.ensure_certification(mentor, validity)]

    return Planned(record, certify)


def user_ref(record: Record, *, required: bool) -> UserRef | None:
    email, user_id = record.get("email"), record.get("user_id")
    if email is None and user_id is None:
        if required:
            raise invalid("email", f"a {record.kind} row needs an email or a user_id")
        return None
    return UserRef(
        user_id=parse_uuid(user_id, "user_id") if user_id else None,
        email=clean_email(email) if email else None,
    )


def validity_of(record: Record) -> Validity:
    until = record.get("valid_until")
    return Validity(
        parse_date(record.get("valid_from") or "", "valid_from"),
        parse_date(until, "valid_until") if until else None,
        clean_optional_text(record.get("certification"), "certification"),
    )


# -- applying ---------------------------------------------------------------------------


@dataclass
class Prepared:
    """A file read and every row checked: what :func:`apply` will do."""

    reports: list[RowReport]
    steps: list[tuple[Planned, RowReport]]

    @property
    def invalid(self) -> bool:
        return any(report.action == "invalid" for report in self.reports)


def prepare(path: Path, fmt: str | None = None) -> Prepared:
    """Read the file and check every row on its own; refuses a file it cannot read."""
    reports, steps = [], []
    for record in read_records(path, fmt):
        report = RowReport(record.number, record.kind, record.key())
        reports.append(report)
        try:
            steps.append((plan(record), report))
        except RosterError as exc:
            _refuse(report, exc, "invalid")
    if any(report.action == "invalid" for report in reports):
        for report in reports:
            if report.action == "pending":
                report.action = "not applied"
    return Prepared(reports, steps)


def apply(
    prepared: Prepared, url: str, *, create_users: bool = False, dry_run: bool = False
) -> ImportReport:
    """Apply a checked file row by row (nothing when a row is invalid); what each did."""
    if prepared.invalid:
        return ImportReport(prepared.reports, applied=False, dry_run=dry_run)
    with connect(url) as conn:
        roster = Roster(conn)
        roster.check_ready()
        # One transaction, a savepoint per row: a refused row leaves nothing, the others
        # commit together at the end (or never, in a dry run).
        with conn.transaction(force_rollback=dry_run):
            for step, report in prepared.steps:
                try:
                    with roster.change():
                        report.changes = step.apply(roster, create_users)
                except RosterError as exc:
                    _refuse(report, exc, "refused")
                    continue
                report.action = row_action(report.kind, report.changes)
    return ImportReport(prepared.reports, applied=not dry_run, dry_run=dry_run)


def import_roster(
    url: str,
    path: Path,
    *,
    fmt: str | None = None,
    create_users: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Check the whole file, then apply it row by row; what each row did."""
    return apply(prepare(path, fmt), url, create_users=create_users, dry_run=dry_run)


def _refuse(report: RowReport, exc: RosterError, action: str) -> None:
    report.action = action
    report.code = exc.code
    report.message = exc.message
    report.hint = exc.hint or None
    report.changes = []


def row_action(kind: str, changes: list[Outcome]) -> str:
    """created when the row's own object is new; updated when anything changed."""
    if any(o.kind == kind and o.action == "created" for o in changes):
        return "created"
    if any(o.action != "unchanged" for o in changes):
        return "updated"
    return "unchanged"
