"""The audit trail's hash chain: its heads, and verifying it (``pyproj-rpc audit``).

Each status event carries a SHA-256 hash over its fields, its pause and the hash of the
previous event of its mentor (revision 0009). :func:`verify` recomputes every chain in
one read-only snapshot, with PostgreSQL's built-ins only (``db/queries/audit.sql``), and
cross-checks the mentors and their pauses. An owner can still rewrite a chain end to end
and recompute it; stored heads catch that: :func:`read_heads` gives the last event of
every chain, to keep outside the database, and ``verify(stored=...)`` checks that each
stored head is still in its chain, unchanged.

The heads file (``audit heads --json``)::

    {"format": "pyproj-rpc/audit-heads/v1", "taken_at": "...", "mentors": 2,
     "digest": "<hex>", "heads": [{"mentor_id": "...", "sequence": 3, "hash": "<hex>"}, ...]}

``digest`` is the SHA-256 of one line per head, ``<mentor_id> <sequence> <hash>\\n``, in
mentor id order: small enough to keep in a second place (a ticket, a log, a signed mail)
and to check the file against.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pyproj_rpc.errors import ConfigurationError, PyprojRpcError
from pyproj_rpc.queries import query

HEADS_FORMAT = "pyproj-rpc/audit-heads/v1"
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class AuditAccessDenied(ConfigurationError):
    """The role cannot read the whole audit trail (the owner, a superuser or
    service_role can)."""


class AuditCatalogTampered(PyprojRpcError):
    """The catalog holds something that would run code other than PostgreSQL's as the
    verifier (a cast from one of our types, a table replaced by a view, ...): nothing is
    read, and the trail is not to be trusted until a DBA has looked."""

    code = "catalog_tampered"

    def __init__(self, findings: Sequence[CatalogFinding]) -> None:
        self.findings = tuple(findings)
        listed = "; ".join(f"{f.finding}: {f.detail}" for f in self.findings)
        super().__init__(
            f"refusing to read the audit trail: the catalog was changed in a way that would "
            f"run code as this role ({listed})"
        )


class InvalidHeadsFile(ConfigurationError):
    """A stored heads file that is not one ``audit heads --json`` wrote, or was changed."""


@dataclass(frozen=True)
class CatalogFinding:
    """One thing in the catalog that a migrated database does not hold."""

    finding: str  # not_a_table, child_table, column_type, index_code, cast
    detail: str


@dataclass(frozen=True)
class Head:
    """The last event of one mentor's chain."""

    mentor_id: UUID
    sequence: int
    hash: str  # lowercase hex

    def line(self) -> str:
        return f"{self.mentor_id} {self.sequence} {self.hash}\n"


@dataclass(frozen=True)
class Heads:
    """Every chain's head at one moment."""

    heads: tuple[Head, ...]
    taken_at: datetime

    @property
    def digest(self) -> str:
        return heads_digest(self.heads)

    def document(self) -> dict[str, Any]:
        """The heads file's JSON document."""
        return {
            "format": HEADS_FORMAT,
            "taken_at": self.taken_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "mentors": len(self.heads),
            "digest": self.digest,
            "heads": [
                {"mentor_id": str(head.mentor_id), "sequence": head.sequence, "hash": head.hash}
                for head in self.heads
            ],
        }


@dataclass(frozen=True)
class Problem:
    """The first broken link of one mentor's audit trail."""

    mentor_id: UUID
    sequence: int | None  # the event where it breaks; None for a pause without its event
    problem: str  # a stable code: missing_events, broken_link, hash_mismatch, ...
    detail: str
    problems: int  # how many problems this mentor's trail has in all


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` checked and found."""

    mentors: int
    events: int
    heads_compared: int
    problems: tuple[Problem, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def heads_digest(heads: Sequence[Head]) -> str:
    """SHA-256 (hex) of one ``<mentor_id> <sequence> <hash>`` line per head, by mentor id."""
    digest = hashlib.sha256()
    for head in sorted(heads, key=lambda head: str(head.mentor_id)):
        digest.update(head.line().encode())
    return digest.hexdigest()


@contextmanager
def audit_snapshot(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
    """One read-only, repeatable-read transaction with PostgreSQL's built-ins first and
    row-level security off (a role it would filter gets an error, not a partial trail),
    in a catalog that runs nothing but PostgreSQL's code as this role."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query("audit_session"))
            cur.execute(query("audit_lock"))
            refuse_a_tampered_catalog(cur)
            yield cur
            # what was added while we read (an index, a cast) may have run as us: look again
            cur.execute(query("audit_recheck"))
            refuse_a_tampered_catalog(cur)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise AuditAccessDenied(
            f"this role cannot read the whole audit trail ({exc.diag.message_primary}); "
            "connect as the owner or a superuser, or use --role service_role"
        ) from exc
    except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
        raise ConfigurationError(
            f"this database has no hash chain ({exc.diag.message_primary}): "
            "run `pyproj-rpc db upgrade`"
        ) from exc


def refuse_a_tampered_catalog(cur: psycopg.Cursor[dict[str, Any]]) -> None:
    findings = cur.execute(query("audit_catalog"), {}).fetchall()
    if findings:
        raise AuditCatalogTampered([CatalogFinding(**row) for row in findings])


def read_heads(conn: psycopg.Connection[Any]) -> Heads:
    """Every mentor's chain head, as stored."""
    with audit_snapshot(conn) as cur:
        rows = cur.execute(query("audit_heads")).fetchall()
        taken_at = cur.execute(query("audit_now")).fetchone()
    assert taken_at is not None
    return Heads(
        tuple(Head(row["mentor_id"], row["sequence"], row["hash"]) for row in rows),
        taken_at["now"],
    )


def verify(
    conn: psycopg.Connection[Any],
    *,
    mentor_id: UUID | None = None,
    stored: Heads | None = None,
) -> Verification:
    """Recompute every chain (or one mentor's), cross-check mentors and pauses, and compare
    with stored heads; the first problem of each mentor, if any."""
    params: dict[str, Any] = {
        "mentor_id": mentor_id,
        "heads": Jsonb(stored.document()["heads"]) if stored else None,
    }
    started = time.perf_counter()
    with audit_snapshot(conn) as cur:
        counts = cur.execute(query("audit_counts"), params).fetchone()
        rows = cur.execute(query("audit_verify"), params).fetchall()
    seconds = time.perf_counter() - started
    assert counts is not None
    compared = (
        sum(1 for head in stored.heads if mentor_id is None or head.mentor_id == mentor_id)
        if stored
        else 0
    )
    return Verification(
        mentors=counts["mentors"],
        events=counts["events"],
        heads_compared=compared,
        problems=tuple(Problem(**row) for row in rows),
        seconds=seconds,
    )


def load_heads(path: Path) -> Heads:
    """A heads file written by ``audit heads --json``; its digest must match its heads."""
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidHeadsFile(f"cannot read the heads file {path}: {exc}") from exc
    return parse_heads(document, str(path))


def parse_heads(document: Any, source: str = "the heads file") -> Heads:
    if not isinstance(document, Mapping) or document.get("format") != HEADS_FORMAT:
        raise InvalidHeadsFile(f"{source} is not a {HEADS_FORMAT} document")
    try:
        heads = tuple(_head(item) for item in document["heads"])
        taken_at = datetime.fromisoformat(str(document["taken_at"]).replace("Z", "+00:00"))
        digest = str(document["digest"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidHeadsFile(f"{source} is malformed: {exc}") from exc
    if len({head.mentor_id for head in heads}) != len(heads):
        raise InvalidHeadsFile(f"{source} names a mentor twice")
    if heads_digest(heads) != digest:
        raise InvalidHeadsFile(
            f"{source}: its digest does not match its heads (the file was changed)"
        )
    return Heads(heads, taken_at)


def _head(item: Any) -> Head:
    if not isinstance(item, Mapping):
        raise TypeError("a head is an object")
    sequence = item["sequence"]
    digest = item["hash"]
    if type(sequence) is not int or sequence < 1:
        raise ValueError(f"sequence {sequence!r} is not a positive integer")
    if not isinstance(digest, str) or not HASH_PATTERN.match(digest):
        raise ValueError(f"hash {digest!r} is not 64 lowercase hex digits")
    return Head(UUID(str(item["mentor_id"])), sequence, digest)
