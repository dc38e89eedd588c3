"""Alembic, driven by SQL files.

Each revision's SQL lives in ``db/migrations/<name>/``: ``up/*.sql`` run in name order,
then ``down.sql`` for the way back. A revision records the SHA-256 of its files, and
refuses to run if they changed: a landed revision is never edited, a new one is written.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import psycopg
from alembic import command, op
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, pool

from pyproj_rpc.errors import ConfigurationError, LandedMigrationChanged, MigrationError
from pyproj_rpc.resources import resource_dir, sql_file
from pyproj_rpc.settings import DATABASE_URL_ENV, sqlalchemy_url

META_SCHEMA = "pyproj_rpc"
DEFAULT_LOCK_TIMEOUT = "5s"
DEFAULT_STATEMENT_TIMEOUT = "15min"


@dataclass(frozen=True)
class SqlRevision:
    """The SQL files of one revision, pinned by their checksum."""

    name: str
    sha256: str

    @property
    def directory(self) -> Path:
        return resource_dir("db") / "migrations" / self.name

    def files(self) -> list[Path]:
        up = sorted((self.directory / "up").glob("*.sql"))
        down = self.directory / "down.sql"
        if not up or not down.is_file():
            raise MigrationError(f"{self.directory} needs up/*.sql and down.sql")
        return [*up, down]

    def up_files(self) -> list[Path]:
        return self.files()[:-1]

    def down_file(self) -> Path:
        return self.files()[-1]

    def computed_sha256(self) -> str:
        digest = hashlib.sha256()
        for path in self.files():
            digest.update(path.relative_to(self.directory).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()

    def verify(self) -> None:
        actual = self.computed_sha256()
        if actual != self.sha256:
            raise LandedMigrationChanged(
                f"db/migrations/{self.name} changed since it landed "
                f"(recorded {self.sha256[:12]}, now {actual[:12]}). "
                "Landed revisions are never edited: restore the files and write a new revision."
            )

    def upgrade(self) -> None:
        self.verify()
        for path in self.up_files():
            execute_sql_file(path)

    def downgrade(self) -> None:
        self.verify()
        execute_sql_file(self.down_file())


def execute_sql_file(path: Path) -> None:
    """Run a whole SQL file inside the migration's transaction, or print it offline."""
    sql = path.read_text()
    context = op.get_context()
    if context.as_sql:
        label = path.relative_to(resource_dir("db")).as_posix()
        context.impl.static_output(f"-- db/{label}\n{sql.rstrip()}\n")
        return
    driver = op.get_bind().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        # Without parameters psycopg uses the simple query protocol: many statements
        # per call, and no placeholder parsing of the SQL text.
        driver.execute(sql.encode())
    except psycopg.Error as exc:
        raise MigrationError(f"{path}: {exc}") from exc


def alembic_config(url: str | None = None, output: TextIO | None = None) -> Config:
    """An Alembic configuration for our scripts, bound to ``url`` if given."""
    config = Config(output_buffer=output, stdout=output or sys.stdout)
    config.set_main_option("script_location", str(resource_dir("alembic")))
    if url:
        config.attributes["database_url"] = url
    return config


def migration_url(context: EnvironmentContext) -> str:
    """The URL Alembic should use: ``config.attributes``, ``-x url=``, then ``DATABASE_URL``."""
    url = context.config.attributes.get("database_url")
    url = url or context.get_x_argument(as_dictionary=True).get("url")
    url = url or os.environ.get(DATABASE_URL_ENV)
    if not url:
        if context.is_offline_mode():
            return "postgresql+psycopg://offline/offline"
        raise ConfigurationError("no database URL: set DATABASE_URL or pass -x url=...")
    return sqlalchemy_url(str(url))


def session_preamble(context: EnvironmentContext) -> list[str]:
    """Statements run once before any revision: timeouts, and the version table's schema."""
    x_args = context.get_x_argument(as_dictionary=True)
    lock = x_args.get("lock_timeout") or os.environ.get(
        "PYPROJ_MIGRATION_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT
    )
    statement = x_args.get("statement_timeout") or os.environ.get(
        "PYPROJ_MIGRATION_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT
    )
    return [
        f"SET lock_timeout = {quote_literal(lock)}",
        f"SET statement_timeout = {quote_literal(statement)}",
        f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}",
    ]


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_environment(context: EnvironmentContext) -> None:
    """The body of ``alembic/env.py``: one transaction per revision, timeouts set."""
    options: dict[str, Any] = {
        "transaction_per_migration": True,
        "version_table_schema": META_SCHEMA,
    }
    url = migration_url(context)
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        context.get_context().impl.static_output(
            "".join(f"{statement};\n" for statement in session_preamble(context))
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        for statement in session_preamble(context):
            connection.exec_driver_sql(statement)
        connection.commit()
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


# -- commands used by the CLI and the test harness ---------------------------------------


@contextmanager
def _revision_errors() -> Iterator[None]:
    """Alembic's refusals (an unknown revision, say) are the caller's mistake."""
    try:
        yield
    except CommandError as exc:
        raise ConfigurationError(f"alembic: {exc}") from exc


def upgrade(url: str, revision: str = "head") -> None:
    with _revision_errors():
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    with _revision_errors():
        command.downgrade(alembic_config(url), revision)


def offline_sql(from_revision: str | None = None, to_revision: str = "head") -> str:
    """The full SQL a DBA can review, from ``from_revision`` (default: empty) to ``to_revision``."""
    target = f"{from_revision}:{to_revision}" if from_revision else to_revision
    return _captured(lambda config: command.upgrade(config, target, sql=True))


def offline_downgrade_sql(from_revision: str, to_revision: str) -> str:
    return _captured(
        lambda config: command.downgrade(config, f"{from_revision}:{to_revision}", sql=True)
    )


def current(url: str) -> str:
    return _captured(lambda config: command.current(config, verbose=False), url)


def history() -> str:
    return _captured(lambda config: command.history(config, verbose=False))


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError("no revisions")
    return head


def _captured(action: Callable[[Config], None], url: str | None = None) -> str:
    buffer = io.StringIO()
    with _revision_errors():
        action(alembic_config(url, buffer))
    return buffer.getvalue()


# -- the Supabase compatibility bootstrap ------------------------------------------------


def apply_supabase_compat(conn: psycopg.Connection[Any]) -> list[str]:
    """Create the Supabase objects that are missing, and repair what an earlier version
    created unsafely; returns what was created (``role anon``) or repaired
    (``repaired search_path of function auth.uid()``)."""
    with _notices(conn) as notices:
        conn.execute(sql_file("supabase", "compat.sql").read_bytes())
    return [
        notice.removeprefix("created ")
        for notice in notices
        if notice.startswith(("created ", "repaired "))
    ]


@contextmanager
def _notices(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    received: list[str] = []

    def collect(diag: psycopg.errors.Diagnostic) -> None:
        if diag.message_primary:
            received.append(diag.message_primary)

    conn.add_notice_handler(collect)
    try:
        yield received
    finally:
        conn.remove_notice_handler(collect)
