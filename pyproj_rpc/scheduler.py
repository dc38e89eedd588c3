"""The scheduler: certification expiry, overdue-pause reminders, key retention.

Each sweep runs in batches, one committed transaction each, as the service (the system
actor), until a batch comes back short. Three ways to run them, all the same SQL:
pg_cron jobs inside the database (:func:`install_cron_jobs`), one pass from the CLI
(:func:`expire_lapsed`, :func:`remind_overdue`), or periodically from a relay
(:func:`sweep_once`, guarded by a lease so that one instance sweeps at a time).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

from pyproj_rpc import calls, rpc
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.identity import Identity, postgrest_request
from pyproj_rpc.queries import pinned_search_path, query

DEFAULT_BATCH_SIZE = 500
DEFAULT_EXPIRY_SCHEDULE = "*/15 * * * *"
DEFAULT_REMINDER_SCHEDULE = "0 7 * * *"
DEFAULT_PURGE_SCHEDULE = "30 3 * * *"
# What pg_cron takes: five cron fields, a macro, or an interval of 1-59 seconds.
CRON_FIELD = re.compile(r"[0-9A-Za-z*/,\-]+")
CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly", "@reboot"}
)
CRON_SECONDS = re.compile(r"([1-9]|[1-5][0-9]) seconds?")


def check_cron_schedule(text: str, *, what: str = "schedule") -> str:
    """``text`` if pg_cron can read it (the server checks the fields' values too)."""
    value = " ".join(text.split())
    fields = value.split(" ")
    if (
        value.lower() in CRON_MACROS
        or CRON_SECONDS.fullmatch(value)
        or (len(fields) == 5 and all(CRON_FIELD.fullmatch(field) for field in fields))
    ):
        return value
    raise ConfigurationError(
        f"{what}: {text!r} is not a cron schedule: five fields (minute hour day month"
        " weekday, e.g. '*/15 * * * *'), a macro like @daily, or '30 seconds'"
    )


KEY_RETENTION = "7 days"
# How long a round may keep other instances out if its sweeper dies without releasing.
SWEEP_LEASE = timedelta(minutes=10)
SERVICE = Identity.service()

Progress = Callable[[int], None]


class CronUnavailable(ConfigurationError):
    """pg_cron is not installed (or not available) in this database."""


@dataclass(frozen=True)
class CronJob:
    """One of our pg_cron jobs and its last run."""

    name: str
    schedule: str
    active: bool
    command: str
    last_status: str | None
    last_run: datetime | None
    return_message: str | None


def _loop(batch: Callable[[], int], batch_size: int, progress: Progress | None) -> int:
    total = 0
    while True:
        done = batch()
        total += done
        if progress is not None:
            progress(done)
        if done < batch_size:
            return total


def expire_lapsed(
    conn: psycopg.Connection[Any],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Expire every mentor whose certification lapsed; returns how many."""
    call = calls.expire_lapsed_certifications(batch_size)

    def batch() -> int:
        return call.parse(rpc.call(conn, SERVICE, call.function, call.arguments))

    return _loop(batch, batch_size, progress)


def remind_overdue(
    conn: psycopg.Connection[Any],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Tell coordinators about every pause past its expected return; returns how many."""

    def batch() -> int:
        with postgrest_request(conn, SERVICE) as cur:
            row = cur.execute(query("sweep_remind_overdue"), {"batch_size": batch_size}).fetchone()
        assert row is not None
        reminded: int = row["result"]
        return reminded

    return _loop(batch, batch_size, progress)


def purge_idempotency_keys(conn: psycopg.Connection[Any], older_than: str = KEY_RETENTION) -> int:
    """Forget idempotency keys older than the retention."""
    with postgrest_request(conn, SERVICE) as cur:
        row = cur.execute(
            query("sweep_purge_idempotency_keys"), {"older_than": older_than}
        ).fetchone()
    assert row is not None
    purged: int = row["result"]
    return purged


def estimate(conn: psycopg.Connection[Any], which: str) -> int:
    """An upper bound of what a sweep will handle: 'lapsed' or 'overdue' (as the service)."""
    with postgrest_request(conn, SERVICE, method="GET") as cur:
        cur.execute(query("pin_search_path"))  # our query, not a client's: pg_catalog first
        row = cur.execute(query(f"sweep_{which}_estimate")).fetchone()
    assert row is not None
    count: int = row["estimate"]
    return count


@dataclass(frozen=True)
class SweepReport:
    """What one scheduled round did (``ran`` is False when another instance held the lease)."""

    ran: bool
    expired: int = 0
    reminded: int = 0
    keys_purged: int = 0


def sweep_once(
    conn: psycopg.Connection[Any],
    batch_size: int = DEFAULT_BATCH_SIZE,
    lease: timedelta = SWEEP_LEASE,
) -> SweepReport:
    """Run every sweep unless another instance holds the sweepers' lease.

    The lease (``mentoring.take_sweeper_lease``) is the service's: no other role can take
    it and stop the sweeps. It is released at the end, or expires after ``lease``.
    """
    holder = uuid.uuid4()
    with postgrest_request(conn, SERVICE) as cur:
        row = cur.execute(query("sweep_take_lease"), {"holder": holder, "lease": lease}).fetchone()
    if row is None or not row["taken"]:
        return SweepReport(ran=False)
    try:
        return SweepReport(
            ran=True,
            expired=expire_lapsed(conn, batch_size),
            reminded=remind_overdue(conn, batch_size),
            keys_purged=purge_idempotency_keys(conn),
        )
    finally:
        with postgrest_request(conn, SERVICE) as cur:
            cur.execute(query("sweep_release_lease"), {"holder": holder})


# -- pg_cron ---------------------------------------------------------------------------


def cron_state(conn: psycopg.Connection[Any]) -> tuple[bool, bool]:
    """(available on the server, installed in this database)."""
    with pinned_search_path(conn):
        row = conn.execute(query("cron_state")).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1])


def require_cron(conn: psycopg.Connection[Any]) -> None:
    available, installed = cron_state(conn)
    if installed:
        return
    if available:
        raise CronUnavailable(
            "pg_cron is available but not installed in this database: run "
            "`create extension pg_cron` (Supabase: Database > Extensions > pg_cron); "
            "pg_cron must also be in shared_preload_libraries"
        )
    raise CronUnavailable(
        "this server has no pg_cron: run `pyproj-rpc expire-certifications` and "
        "`pyproj-rpc remind-overdue` from your own scheduler, or `pyproj-rpc relay --schedule`"
    )


def install_cron_jobs(
    conn: psycopg.Connection[Any],
    expiry_schedule: str = DEFAULT_EXPIRY_SCHEDULE,
    reminder_schedule: str = DEFAULT_REMINDER_SCHEDULE,
    purge_schedule: str = DEFAULT_PURGE_SCHEDULE,
) -> list[CronJob]:
    """Create or update our named pg_cron jobs; they run as the connected role."""
    require_cron(conn)
    jobs = (
        ("pyproj-rpc-expire-certifications", expiry_schedule, "cron_command_expire"),
        ("pyproj-rpc-remind-overdue", reminder_schedule, "cron_command_remind"),
        ("pyproj-rpc-purge-idempotency-keys", purge_schedule, "cron_command_purge"),
    )
    with pinned_search_path(conn):
        for name, schedule, command in jobs:
            conn.execute(
                query("cron_schedule"),
                {"name": name, "schedule": schedule, "command": query(command)},
            )
    return cron_jobs(conn)


def remove_cron_jobs(conn: psycopg.Connection[Any]) -> list[str]:
    """Unschedule every job of ours; returns their names."""
    require_cron(conn)
    with pinned_search_path(conn):
        return [row[0] for row in conn.execute(query("cron_unschedule_ours")).fetchall()]


def cron_jobs(conn: psycopg.Connection[Any]) -> list[CronJob]:
    """Our pg_cron jobs and how their last run went."""
    require_cron(conn)
    with pinned_search_path(conn), conn.cursor(row_factory=class_row(CronJob)) as cur:
        return cur.execute(query("cron_jobs")).fetchall()
