"""Our Alembic revisions as Supabase CLI migrations (``pyproj-rpc db export-supabase``).

Each revision becomes ``<timestamp>_pyproj_rpc_<rev>.sql``: the revision's ``up/*.sql`` in
name order, framed by what the Alembic runner does around them (the session's timeouts,
the ``pyproj_rpc`` schema of the version table) and followed by the version table's update,
so that after ``supabase db push`` the database is where ``pyproj-rpc db upgrade`` would
have left it, and either tool can carry on. The timestamp is derived from the revision
number alone, so an export is byte-identical each time and files sort in revision order.

A file first checks that ``pyproj_rpc.alembic_version`` holds the revision before it (none
for the first): a database already migrated by Alembic refuses the file with a clear
message instead of failing halfway on ``create schema``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

from pyproj_rpc import migrations
from pyproj_rpc.errors import MigrationError
from pyproj_rpc.migrations import SqlRevision
from pyproj_rpc.resources import resource_dir, sql_file

# 2026-01-01 00:00:00 plus the revision number: 0011 -> 20260101000011. The Supabase CLI
# orders versions by these digits; it does not need them to be a valid time.
TIMESTAMP_BASE = 20260101000000
MAX_REVISION_NUMBER = 9999


@dataclass(frozen=True)
class ExportedRevision:
    """One revision, in the shape the Supabase CLI applies."""

    revision: str
    down_revision: str | None
    title: str
    sql: SqlRevision

    @property
    def timestamp(self) -> str:
        return str(TIMESTAMP_BASE + int(self.revision))

    @property
    def file_name(self) -> str:
        return f"{self.timestamp}_pyproj_rpc_{self.revision}.sql"

    def render(self) -> str:
        self.sql.verify()  # a landed revision whose files changed is not exported
        db_dir = resource_dir("db")
        previous = self.down_revision
        values = {
            "revision": self.revision,
            "previous": migrations.quote_literal(previous) if previous else "null",
            "timestamp": self.timestamp,
            "title": self.title,
            "name": self.sql.name,
            "sha256": self.sql.sha256[:12],
            "lock_timeout": migrations.quote_literal(migrations.DEFAULT_LOCK_TIMEOUT),
            "statement_timeout": migrations.quote_literal(migrations.DEFAULT_STATEMENT_TIMEOUT),
        }
        parts = [_filled("before.sql", values)]
        for path in self.sql.up_files():
            label = path.relative_to(db_dir.parent).as_posix()
            parts.append(f"-- {label}\n{path.read_text().strip()}\n")
        parts.append(_filled("after.sql", values))
        return "\n".join(parts)


def revisions() -> list[ExportedRevision]:
    """Every revision, base first; a history that is not one line is refused."""
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    chain = list(reversed(list(scripts.walk_revisions())))
    exported: list[ExportedRevision] = []
    previous: str | None = None
    for script in chain:
        down = script.down_revision
        if isinstance(down, tuple) or down != previous:
            raise MigrationError(f"revision {script.revision}: the history must be one line")
        if not script.revision.isdigit() or int(script.revision) > MAX_REVISION_NUMBER:
            raise MigrationError(
                f"revision {script.revision}: the export needs numbered revisions (0001..9999)"
            )
        if exported and int(script.revision) <= int(exported[-1].revision):
            raise MigrationError(f"revision {script.revision}: numbers must increase")
        sql = getattr(script.module, "sql", None)
        if not isinstance(sql, SqlRevision):
            raise MigrationError(f"revision {script.revision}: no SqlRevision named `sql`")
        title = script.doc.strip().splitlines()[0] if script.doc.strip() else sql.name
        exported.append(ExportedRevision(script.revision, down, title, sql))
        previous = script.revision
    return exported


def export(directory: Path) -> list[Path]:
    """Write every revision's file into ``directory`` (created if needed); other files stay."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for revision in revisions():
        path = directory / revision.file_name
        path.write_text(revision.render())
        written.append(path)
    return written


def _filled(template: str, values: dict[str, str]) -> str:
    """A template of db/supabase/export/ with ``:name`` replaced by its text, and
    ``:'name'`` by it as a SQL literal."""

    def value(match: re.Match[str]) -> str:
        quoted, name = match.group(1), match.group(2)
        text = values[name]
        return migrations.quote_literal(text) if quoted else text

    return _PLACEHOLDER.sub(value, sql_file("supabase", "export", template).read_text())


_PLACEHOLDER = re.compile(r"(?<!:):(')?(\w+)(?(1)')")
