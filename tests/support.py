"""Builders for test data, and calls to the api as a given identity.

Data is written as the database owner (the test connection's own role); every action
under test goes through :func:`pyproj_rpc.rpc.call`, i.e. exactly as PostgREST runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pyproj_rpc import rpc
from pyproj_rpc.api_errors import PauseManagementError, from_database_error
from pyproj_rpc.identity import Identity
from pyproj_rpc.seed import Seeder

ARGUMENTS: dict[str, tuple[str, ...]] = {
    "activate_pause": (
        "mentor_id",
        "reason",
        "expected_return_date",
        "force",
        "idempotency_key",
    ),
    "lift_pause": ("mentor_id", "reason", "idempotency_key"),
    "reactivate_mentor": ("mentor_id", "reason", "idempotency_key"),
    "auto_expire_for_certification": ("mentor_id",),
    "get_current_status": ("mentor_id",),
    "get_pause_history": ("mentor_id",),
    "get_paused_mentors": ("coordinator_id",),
    "is_transition_allowed": ("current_status", "target_status"),
    "expire_lapsed_certifications": ("batch_size",),
}


def behind_the_state_machine(
    conn: psycopg.Connection[Any], statement: Any, params: Any = None
) -> None:
    """Run ``statement`` with every trigger off, as only a superuser can: for a test that
    pretends time passed (a pause that started days ago). The audit chain notices."""
    conn.execute("set local session_replication_role = replica")
    try:
        conn.execute(statement, params)
    finally:
        conn.execute("set local session_replication_role = origin")


def call(conn: psycopg.Connection[Any], identity: Identity, function: str, **kwargs: Any) -> Any:
    """Call ``api.<function>`` as ``identity``; unnamed arguments take their defaults."""
    arguments = {name: kwargs.pop(name, None) for name in ARGUMENTS[function]}
    assert not kwargs, f"unknown arguments {kwargs}"
    results = rpc.call(conn, identity, function, arguments)
    return results if function == "get_paused_mentors" else results[0]


@contextmanager
def refused(code: str) -> Iterator[list[PauseManagementError]]:
    """Expect raw SQL (not an api call) to fail with the contract error ``code``."""
    errors: list[PauseManagementError] = []
    with pytest.raises(psycopg.Error) as caught:
        yield errors
    error = from_database_error(caught.value)
    assert error is not None, f"not a contract error: {caught.value}"
    assert error.code == code, f"{error.code}: {error.message}"
    errors.append(error)


@dataclass(frozen=True)
class Mentor:
    id: uuid.UUID
    user_id: uuid.UUID
    organization_id: uuid.UUID

    @property
    def identity(self) -> Identity:
        return Identity.user(self.user_id)


@dataclass
class Organization:
    """An organization with an admin, and builders for its people."""

    world: World
    id: uuid.UUID
    admin: Identity
    time_zone: str = "UTC"

    def coordinator(self) -> Identity:
        return self.world.staff(self.id, "coordinator")

    def second_admin(self) -> Identity:
        return self.world.staff(self.id, "admin")

    def mentor(
        self,
        *,
        status: str = "active",
        certified: bool = True,
        coordinators: tuple[Identity, ...] = (),
        name: str = "Mentor",
    ) -> Mentor:
        return self.world.mentor(
            self, status=status, certified=certified, coordinators=coordinators, name=name
        )


@dataclass
class World:
    """Writes organizations, people, mentors and certifications as the database owner."""

    conn: psycopg.Connection[Any]
    organizations: list[Organization] = field(default_factory=list)

    @property
    def seed(self) -> Seeder:
        return Seeder(self.conn)

    def execute(self, sql: Any, params: Any = None) -> Any:
        return self.conn.execute(sql, params)

    def organization(self, name: str = "Org", time_zone: str = "UTC") -> Organization:
        org_id = self.seed.organization(name, time_zone)
        org = Organization(self, org_id, self.staff(org_id, "admin"), time_zone)
        self.organizations.append(org)
        return org

    def staff(self, organization_id: uuid.UUID, role: str) -> Identity:
        user_id = self.seed.user()
        self.seed.staff(organization_id, user_id, role)
        return Identity.user(user_id)

    def today(self, organization_id: uuid.UUID) -> date:
        return self.seed.today(organization_id)

    def mentor(
        self,
        org: Organization,
        *,
        status: str = "active",
        certified: bool = True,
        coordinators: tuple[Identity, ...] = (),
        name: str = "Mentor",
    ) -> Mentor:
        """A mentor in ``status`` ('paused' is reached through a real pause by the mentor)."""
        user_id = self.seed.user()
        mentor_id = self.seed.mentor(
            org.id,
            name,
            user_id=user_id,
            certified=certified,
            status="expired_cert" if status == "expired_cert" else "active",
        )
        mentor = Mentor(mentor_id, user_id, org.id)
        for coordinator in coordinators:
            self.assign(mentor, coordinator)
        if status == "paused":
            call(self.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="setup")
        return mentor

    def certify(self, mentor: Mentor, first_day: date, lapses_on: date | None) -> None:
        """A certification valid from ``first_day`` up to, not including, ``lapses_on``."""
        self.seed.certify(mentor.id, first_day, lapses_on)

    def lapse(self, mentor: Mentor) -> None:
        """End every certification of the mentor before today."""
        self.seed.lapse(mentor.id)

    def assign(self, mentor: Mentor, coordinator: Identity) -> None:
        assert coordinator.user_id is not None
        self.seed.assign(mentor.id, coordinator.user_id)

    # -- reading back what happened -------------------------------------------------------

    def status(self, mentor: Mentor) -> str:
        row = self.execute(
            "select status::text from mentoring.mentors where id = %s", (mentor.id,)
        ).fetchone()
        result: str = row[0]
        return result

    def counts(self, mentor: Mentor) -> dict[str, int]:
        """How many pauses, events and outbox rows the mentor has."""
        row = self.execute(
            "select"
            " (select count(*) from mentoring.pause_periods where mentor_id = %(m)s),"
            " (select count(*) from mentoring.status_events where mentor_id = %(m)s),"
            " (select count(*) from mentoring.outbox o join mentoring.status_events e"
            "    on e.id = o.event_id where e.mentor_id = %(m)s)",
            {"m": mentor.id},
        ).fetchone()
        return {"pauses": row[0], "events": row[1], "outbox": row[2]}

    def events(self, mentor: Mentor) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            return cur.execute(
                "select * from mentoring.status_events where mentor_id = %s order by sequence",
                (mentor.id,),
            ).fetchall()

    def pauses(self, mentor: Mentor) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            return cur.execute(
                "select * from mentoring.pause_periods where mentor_id = %s order by started_at",
                (mentor.id,),
            ).fetchall()

    def event_id(self, result: dict[str, Any]) -> int:
        """The audit row behind a change's result (users see its sequence, not its id)."""
        row = self.execute(
            "select id from mentoring.status_events where mentor_id = %s and sequence = %s",
            (result["mentor_id"], result["event"]["sequence"]),
        ).fetchone()
        event_id: int = row[0]
        return event_id

    def outbox(self, event_id: int) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            return cur.execute(
                "select * from mentoring.outbox where event_id = %s order by recipient_id",
                (event_id,),
            ).fetchall()


# -- waiting for what we can observe, and races made deterministic ----------------------

WAIT = 30.0  # seconds any condition may take before a test fails


def eventually(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_until_blocked(database: Any, pid: int, timeout: float = 10.0) -> None:
    """Return once backend ``pid`` waits on a lock."""
    with database.connect(autocommit=True) as observer:

        def waiting() -> bool:
            row = observer.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", (pid,)
            ).fetchone()
            return row is not None and row[0] == "Lock"

        eventually(waiting, f"backend {pid} to wait on a lock", timeout)


def in_background(database: Any, action: Any) -> tuple[Future[Any], int]:
    """Run ``action(conn)`` on a new connection in a thread; return its future and pid."""
    conn = database.connect()
    pool = ThreadPoolExecutor(max_workers=1)

    def run() -> Any:
        try:
            return action(conn)
        finally:
            conn.close()

    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future, conn.info.backend_pid


def cli(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``pyproj-rpc ARGS`` in a subprocess, as a person runs it (no DATABASE_URL from ours)."""
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "pyproj_rpc", *args],
        env={**base, "PYPROJ_RPC_HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
