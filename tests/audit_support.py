"""Audit trails to verify, and ways to tamper with them, for the audit chain's tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pyproj_rpc import audit
from pyproj_rpc.identity import Identity, postgrest_request
from tests.conftest import Database
from tests.support import Mentor, World, call

HOSTILE_REASON = 'Exam "week"\n\\ été 🎓 {"a": null}'


@dataclass(frozen=True)
class History:
    """Committed: ``paused`` has 3 events and an open pause (paused, lifted, paused);
    ``lifted`` 2 and an ended pause; ``expired`` 3 (paused, expired with its pause
    closed, reactivated); ``untouched`` none."""

    paused: Mentor
    lifted: Mentor
    expired: Mentor
    untouched: Mentor
    coordinator: Identity


def build_history(database: Database) -> History:
    with database.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        paused, lifted, expired, untouched = (
            org.mentor(coordinators=(coordinator,), name=name)
            for name in ("Paused", "Lifted", "Expired", "Untouched")
        )
        back = world.today(org.id) + timedelta(days=14)
        call(
            conn,
            paused.identity,
            "activate_pause",
            mentor_id=paused.id,
            reason=HOSTILE_REASON,
            expected_return_date=back,
            idempotency_key=uuid.uuid4(),
        )
        call(conn, coordinator, "lift_pause", mentor_id=paused.id, reason="Back early")
        call(conn, coordinator, "activate_pause", mentor_id=paused.id, reason="Again", force=True)
        call(conn, lifted.identity, "activate_pause", mentor_id=lifted.id, reason="Leave")
        call(conn, lifted.identity, "lift_pause", mentor_id=lifted.id)
        call(conn, expired.identity, "activate_pause", mentor_id=expired.id, reason="Away")
        world.lapse(expired)
        call(conn, Identity.service(), "auto_expire_for_certification", mentor_id=expired.id)
        today = world.today(org.id)
        world.certify(expired, today, today + timedelta(days=365))
        call(conn, coordinator, "reactivate_mentor", mentor_id=expired.id, reason="Recertified")
        conn.commit()
    return History(paused, lifted, expired, untouched, coordinator)


def verify(database: Database, **kwargs: Any) -> audit.Verification:
    with database.connect(autocommit=True) as conn:
        return audit.verify(conn, **kwargs)


def heads(database: Database) -> audit.Heads:
    with database.connect(autocommit=True) as conn:
        return audit.read_heads(conn)


def first_problems(result: audit.Verification) -> dict[uuid.UUID, tuple[str, int | None]]:
    """Each mentor's first problem: (code, sequence)."""
    return {p.mentor_id: (p.problem, p.sequence) for p in result.problems}


def as_superuser_without_triggers(database: Database, *statements: str, params: Any = None) -> None:
    """What a superuser can do: every trigger off (session_replication_role), committed."""
    with database.connect() as conn:
        conn.execute("set local session_replication_role = replica")
        for statement in statements:
            conn.execute(statement, params)
        conn.commit()


def as_owner_with_disabled(
    database: Database, table: str, trigger: str, statement: str, params: Any = None
) -> None:
    """What the table owner can do: disable one of our triggers, write, enable it again."""
    with database.connect() as conn:
        conn.execute(f"alter table {table} disable trigger {trigger}")
        conn.execute(statement, params)
        conn.execute(f"alter table {table} enable trigger {trigger}")
        conn.commit()


# Recompute a mentor's whole chain, as an owner who knows the encoding would.
RECHAIN = """
with recursive chain as (
  select e.id, e.sequence, null::bytea as prev_hash,
         mentoring.status_event_hash(null, e.mentor_id, e.sequence, e.from_status,
           e.to_status, e.reason, e.actor_user_id, e.actor_kind, e.database_role, e.forced,
           e.findings, e.idempotency_key, e.pause_id, e.occurred_at, p) as hash
  from mentoring.status_events e
  left join mentoring.pause_periods p on p.id = e.pause_id
  where e.mentor_id = %(m)s and e.sequence = 1
  union all
  select e.id, e.sequence, c.hash,
         mentoring.status_event_hash(c.hash, e.mentor_id, e.sequence, e.from_status,
           e.to_status, e.reason, e.actor_user_id, e.actor_kind, e.database_role, e.forced,
           e.findings, e.idempotency_key, e.pause_id, e.occurred_at, p)
  from chain c
  join mentoring.status_events e on e.mentor_id = %(m)s and e.sequence = c.sequence + 1
  left join mentoring.pause_periods p on p.id = e.pause_id
)
update mentoring.status_events e
set prev_hash = chain.prev_hash, hash = chain.hash
from chain
where e.id = chain.id
"""


def ten_thousand_events(database: Database, mentors: int = 1000, rounds: int = 5) -> int:
    """``mentors`` mentors paused and lifted ``rounds`` times by their admin, one set-based
    statement per step through the state machine: ``2 * mentors * rounds`` events."""
    with database.connect() as conn:
        world = World(conn)
        org = world.organization("Large")
        conn.execute(
            "with added as ("
            "  insert into mentoring.mentors (organization_id, display_name, status)"
            "  select %(org)s, 'Mentor ' || n, 'active' from generate_series(1, %(n)s) n"
            "  returning id)"
            " insert into mentoring.certifications (mentor_id, valid_during)"
            " select id, daterange(current_date - 30, current_date + 335) from added",
            {"org": org.id, "n": mentors},
        )
        conn.commit()
        for step in range(rounds * 2):
            target = "paused" if step % 2 == 0 else "active"
            with postgrest_request(conn, org.admin) as cur:
                cur.execute(
                    "select set_config('mentoring.transition_request', %s, true)",
                    (f'{{"reason": "round {step}"}}',),
                )
                cur.execute(
                    "update mentoring.mentors set status = %s where organization_id = %s",
                    (target, org.id),
                )
    return 2 * mentors * rounds


def fetch_one(database: Database, sql: str, params: Any = None) -> Any:
    with database.connect() as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]
