"""Where benchmarks run: a throwaway cluster with durable settings, or a given server.

Each benchmark database is created for the run (``pyproj_bench_<name>``), bootstrapped and
migrated, seeded with ``db/bench/roster.sql`` through psql, analyzed, and dropped at the
end. A given server needs a superuser: the seeder writes with triggers off.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pyproj_rpc.errors import ConfigurationError, PyprojRpcError
from pyproj_rpc.localdb import LocalCluster, ServerBinaries, find_server_binaries
from pyproj_rpc.provision import bootstrap_and_upgrade
from pyproj_rpc.queries import query
from pyproj_rpc.resources import sql_file

# Writes must pay for durability: benchmarks of commits with fsync off measure nothing.
DURABLE_SETTINGS: Mapping[str, str] = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    # commit times of transactions: the relay benchmark's commit -> receipt latency
    "track_commit_timestamp": "on",
}
MENTORS_PER_COORDINATOR = 200  # fixed: the pgbench scripts derive ids from it
NO_LAPSED = 1_000_000_000  # a lapsed_every no roster reaches
SEED_TIMEOUT = 900.0


class SeedingFailed(PyprojRpcError):
    """psql could not run a seeding script."""


def numbered_id(kind: str, number: int) -> UUID:
    """The id roster.sql gives to mentor ``n`` (kind 'm'), coordinator ``k`` ('c'), ..."""
    return UUID(hashlib.md5(f"{kind}{number}".encode(), usedforsecurity=False).hexdigest())


def organizations_for(mentors: int) -> int:
    """Organizations of a roster: about one per 10,000 mentors."""
    return max(1, round(mentors / 10_000))


def lapsed_every(mentors: int, lapsed: int) -> int:
    """The seeder's ``lapsed_every`` for about ``lapsed`` lapsed mentors (0: none)."""
    if lapsed <= 0:
        return NO_LAPSED
    return max(1, candidates(mentors) // lapsed)


def candidates(mentors: int) -> int:
    """Mentors the seeder may lapse: n % 10 = 5, never paused."""
    return (mentors + 5) // 10


def lapsed_count(mentors: int, every: int) -> int:
    """How many mentors ``roster.sql`` lapses: n = 10q + 5 with q % every = every - 1."""
    return candidates(mentors) // every


@dataclass(frozen=True)
class Roster:
    """A seeded benchmark database."""

    name: str
    url: str
    mentors: int
    lapsed: int
    migrate_seconds: float
    seed_seconds: float
    vacuum_seconds: float

    @property
    def coordinators(self) -> int:
        """Coordinators with a full 200 mentors (the pgbench scripts use only those)."""
        return self.mentors // MENTORS_PER_COORDINATOR

    def summary(self) -> dict[str, Any]:
        return {
            "database": self.name,
            "mentors": self.mentors,
            "coordinators": self.coordinators,
            "lapsed": self.lapsed,
            "migrate_seconds": round(self.migrate_seconds, 2),
            "seed_seconds": round(self.seed_seconds, 2),
            "vacuum_seconds": round(self.vacuum_seconds, 2),
        }

    def describe(self) -> str:
        lapsed = f", {self.lapsed:,} lapsed" if self.lapsed else ""
        return (
            f"{self.name}: {self.mentors:,} mentors{lapsed}; migrated in"
            f" {self.migrate_seconds:.1f} s, seeded in {self.seed_seconds:.1f} s,"
            f" vacuum analyze {self.vacuum_seconds:.1f} s"
        )


@dataclass(frozen=True)
class ServerFacts:
    """Where a benchmark ran, printed with its figures."""

    description: str
    settings: dict[str, str]

    def line(self) -> str:
        settings = ", ".join(f"{name}={value}" for name, value in self.settings.items())
        return f"{self.description}: {settings}"

    def as_dict(self) -> dict[str, Any]:
        return {"description": self.description, **self.settings}


@dataclass(frozen=True)
class BenchServer:
    """A server benchmarks may create databases on, as a superuser."""

    admin_url: str  # any database of the server, as a superuser
    binaries: ServerBinaries
    description: str

    def tool(self, name: str) -> Path:
        """A client program shipped with the server binaries (psql, pgbench)."""
        path = self.binaries.tool(name)
        if not path.is_file():
            raise ConfigurationError(
                f"{name} is missing from {self.binaries.bindir} ({self.binaries.source}):"
                f" install PostgreSQL's client programs there (Debian: postgresql-"
                f"{self.binaries.major_version}) or point PYPROJ_PG_BINDIR at a full install"
            )
        return path

    def url(self, database: str) -> str:
        """The admin URL, for another database of the same server."""
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + quote(database, safe="")))

    def facts(self) -> ServerFacts:
        """The server's version and the settings that matter to the figures."""
        with psycopg.connect(self.admin_url) as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query("bench_server_settings")).fetchone()
        assert row is not None
        return ServerFacts(self.description, {name: str(value) for name, value in row.items()})

    @contextmanager
    def database(self, name: str) -> Iterator[tuple[str, float]]:
        """A new database ``name`` migrated to head (URL, seconds it took); dropped after."""
        self._drop(name)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL(query("bench_create_database")).format(database=sql.Identifier(name))
            )
        try:
            started = time.perf_counter()
            url = self.url(name)
            bootstrap_and_upgrade(url)
            yield url, time.perf_counter() - started
        finally:
            self._drop(name)

    @contextmanager
    def roster(self, mentors: int, lapsed: int = 0) -> Iterator[Roster]:
        """A database with ``mentors`` seeded mentors, about ``lapsed`` of them lapsed."""
        name = f"pyproj_bench_{mentors}"
        every = lapsed_every(mentors, lapsed)
        with self.database(name) as (url, migrate_seconds):
            started = time.perf_counter()
            self.psql(
                url,
                sql_file("bench", "roster.sql"),
                mentors=mentors,
                per_coordinator=MENTORS_PER_COORDINATOR,
                organizations=organizations_for(mentors),
                lapsed_every=every,
            )
            seeded = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(query("bench_vacuum_analyze"))
            yield Roster(
                name,
                url,
                mentors,
                lapsed_count(mentors, every) if lapsed > 0 else 0,
                migrate_seconds,
                seeded - started,
                time.perf_counter() - seeded,
            )

    def psql(self, url: str, script: Path, **variables: int | str) -> None:
        """Run ``script`` with psql, stopping at the first error."""
        args = [str(self.tool("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        for name, value in variables.items():
            args += ["-v", f"{name}={value}"]
        url, env = client_connection(url)
        args += ["-d", url, "-f", str(script)]
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=SEED_TIMEOUT, env=env, check=False
        )
        if result.returncode != 0:
            raise SeedingFailed(f"psql -f {script.name} failed:\n{result.stderr.strip()}")

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL(query("bench_drop_database")).format(database=sql.Identifier(name))
            )


def client_connection(url: str) -> tuple[str, dict[str, str]]:
    """``url`` for psql or pgbench, its password moved to the environment (not argv)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is None:
        return url, env
    env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.netloc.rsplit("@", 1)[1]
    if parts.username is not None:
        netloc = quote(unquote(parts.username), safe="") + "@" + netloc
    return urlunsplit(parts._replace(netloc=netloc)), env


def require_url(url: str) -> None:
    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise ConfigurationError("--database-url must be a postgresql:// URL")


def require_superuser(url: str) -> None:
    """Refuse a login that may not create databases and write with triggers off."""
    with psycopg.connect(url) as conn:
        row = conn.execute(query("bench_is_superuser")).fetchone()
    if row is None or not row[0]:
        raise ConfigurationError(
            "the benchmarks create their own databases and seed them with triggers off:"
            " --database-url must log in as a superuser"
        )


@contextmanager
def bench_server(database_url: str | None = None) -> Iterator[BenchServer]:
    """The server at ``database_url`` (a superuser's), else a throwaway durable cluster."""
    if database_url:
        require_url(database_url)
        require_superuser(database_url)
        yield BenchServer(database_url, find_server_binaries(), "the server of --database-url")
        return
    with LocalCluster(settings=DURABLE_SETTINGS) as cluster:
        yield BenchServer(cluster.info.socket_url(), cluster.binaries, "a throwaway local cluster")
