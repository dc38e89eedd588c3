"""The tamper-evident audit trail: a hash chain per mentor, guarded pauses, stored heads.

Each way an owner or a superuser could rewrite history is either refused outright or
reported by ``audit.verify`` at the first broken link of the mentor it touched.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from pyproj_rpc import audit
from tests.audit_support import (
    HOSTILE_REASON,
    RECHAIN,
    History,
    as_owner_with_disabled,
    as_superuser_without_triggers,
    build_history,
    fetch_one,
    first_problems,
    heads,
    ten_thousand_events,
    verify,
)
from tests.conftest import Database
from tests.support import World, call, refused


@pytest.fixture
def history(isolated_db: Database) -> History:
    return build_history(isolated_db)


def pause_of(database: Database, mentor_id: uuid.UUID, *, ended: bool) -> uuid.UUID:
    pause_id: uuid.UUID = fetch_one(
        database,
        "select id from mentoring.pause_periods where mentor_id = %s"
        " and (ended_at is not null) = %s order by started_at limit 1",
        (mentor_id, ended),
    )
    return pause_id


# -- an untouched trail -------------------------------------------------------------------


def test_an_untouched_audit_trail_verifies(isolated_db: Database, history: History) -> None:
    result = verify(isolated_db)
    assert result.problems == ()
    assert (result.mentors, result.events) == (4, 8)


def test_each_event_names_the_hash_of_its_mentors_previous_event(
    isolated_db: Database, history: History
) -> None:
    with isolated_db.connect() as conn:
        rows = conn.execute(
            "select sequence, prev_hash, hash from mentoring.status_events"
            " where mentor_id = %s order by sequence",
            (history.paused.id,),
        ).fetchall()
    assert [row[0] for row in rows] == [1, 2, 3]
    assert rows[0][1] is None
    assert [row[1] for row in rows[1:]] == [row[2] for row in rows[:-1]]
    assert all(len(row[2]) == 32 for row in rows)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_the_hash_is_sha256_of_the_documented_encoding(
    isolated_db: Database, history: History
) -> None:
    with isolated_db.connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        e = cur.execute(
            "select * from mentoring.status_events where mentor_id = %s and sequence = 1",
            (history.paused.id,),
        ).fetchone()
        assert e is not None
        p = cur.execute("select * from mentoring.pause_periods where id = %s", (e["pause_id"],))
        pause = p.fetchone()
    assert pause is not None
    encoded = [
        "pyproj-rpc/status_event/v1", None, str(e["mentor_id"]), 1, "active", "paused",
        HOSTILE_REASON, str(e["actor_user_id"]), "mentor", "authenticated", False, [],
        str(e["idempotency_key"]), str(e["pause_id"]), utc(e["occurred_at"]),
        [pause["start_date"].isoformat(), pause["expected_return_date"].isoformat(),
         HOSTILE_REASON, utc(pause["started_at"]), str(pause["started_by"]), "mentor", False],
        None,
    ]  # fmt: skip
    # PostgreSQL's jsonb text: ", " and ": " between items, non-ASCII characters as they are
    text = json.dumps(encoded, ensure_ascii=False, separators=(", ", ": "))
    assert hashlib.sha256(text.encode()).digest() == e["hash"]


def test_every_notification_carries_its_events_hash(
    isolated_db: Database, history: History
) -> None:
    mismatched = fetch_one(
        isolated_db,
        "select count(*) filter (where o.payload ->> 'hash' is distinct from encode(e.hash, 'hex'))"
        " from mentoring.outbox o join mentoring.status_events e on e.id = o.event_id",
    )
    assert mismatched == 0
    assert fetch_one(isolated_db, "select count(*) from mentoring.outbox") > 0


def test_impossible_chain_rows_are_refused_even_with_triggers_off(
    isolated_db: Database, history: History
) -> None:
    for statement, constraint in (
        (
            "update mentoring.status_events set hash = '\\x00' where mentor_id = %(m)s",
            "hash_is_sha256",
        ),
        (
            "update mentoring.status_events set prev_hash = hash where mentor_id = %(m)s",
            "first_event_has_no",
        ),
        ("update mentoring.status_events set hash = null where mentor_id = %(m)s", '"hash"'),
    ):
        with pytest.raises(psycopg.errors.IntegrityError, match=constraint):
            as_superuser_without_triggers(isolated_db, statement, params={"m": history.lifted.id})


# -- plain writes: refused, for the owner too --------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "update mentoring.status_events set reason = 'rewritten'",
        "insert into mentoring.status_events (mentor_id, sequence, from_status, to_status,"
        " actor_kind, database_role, hash) select id, status_version + 1, status, 'paused',"
        " 'system', 'postgres', sha256('forged') from mentoring.mentors where status = 'active'",
        "update mentoring.pause_periods set reason = 'rewritten' where ended_at is not null",
        "update mentoring.pause_periods set end_note = 'rewritten' where ended_at is not null",
        "update mentoring.pause_periods set expected_return_date = null where ended_at is null",
        "update mentoring.pause_periods set ended_at = clock_timestamp(), end_date = current_date,"
        " end_reason = 'lifted', ended_by_kind = 'system' where ended_at is null",
        "delete from mentoring.pause_periods",
        "truncate mentoring.pause_periods cascade",
    ],
    ids=[
        "rewrite-reason",
        "forge-event",
        "edit-ended-pause",
        "edit-end-note",
        "edit-open-pause",
        "end-open-pause",
        "delete-pause",
        "truncate-pauses",
    ],
)
def test_the_owner_cannot_rewrite_the_audit_trail_even_with_the_state_machines_mark(
    world: World, statement: str
) -> None:
    org = world.organization()
    org.mentor(status="paused")
    lifted = org.mentor(status="paused")
    call(world.conn, lifted.identity, "lift_pause", mentor_id=lifted.id)
    # the setting the state machine sets for its own writes: anyone can set it, it is
    # not enough (a plain statement is not inside the state machine's trigger)
    world.execute("select set_config('mentoring.audit_writer', 'state_machine', true)")
    if statement.startswith("truncate"):
        world.execute("set constraints all immediate")  # nothing pending: truncate may run
    with refused("forbidden"):
        world.execute(statement)


def test_the_state_machine_still_writes_pauses_and_events(world: World) -> None:
    mentor = world.organization().mentor(status="paused")
    call(world.conn, mentor.identity, "lift_pause", mentor_id=mentor.id, reason="done")
    assert [e["sequence"] for e in world.events(mentor)] == [1, 2]
    assert world.pauses(mentor)[0]["end_note"] == "done"


# -- with the guards off: detected ----------------------------------------------------------


def test_a_reason_rewritten_with_the_trigger_disabled_is_detected(
    isolated_db: Database, history: History
) -> None:
    as_owner_with_disabled(
        isolated_db,
        "mentoring.status_events",
        "append_only",
        "update mentoring.status_events set reason = 'Holiday'"
        " where mentor_id = %(m)s and sequence = 2",
        params={"m": history.paused.id},
    )
    assert first_problems(verify(isolated_db)) == {history.paused.id: ("hash_mismatch", 2)}


def test_a_deleted_event_is_detected(isolated_db: Database, history: History) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "delete from mentoring.status_events where mentor_id = %(m)s and sequence = 2",
        params={"m": history.paused.id},
    )
    assert first_problems(verify(isolated_db)) == {history.paused.id: ("missing_events", 3)}


def test_a_deleted_last_event_is_detected(isolated_db: Database, history: History) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "delete from mentoring.status_events where mentor_id = %(m)s and sequence = 2",
        params={"m": history.lifted.id},
    )
    result = verify(isolated_db)
    assert first_problems(result) == {history.lifted.id: ("version_mismatch", 2)}
    assert result.problems[0].problems > 1  # its ended pause has lost its end, too


def test_a_forged_event_is_detected(isolated_db: Database, history: History) -> None:
    # appended after the untouched mentor's (empty) chain, with a hash made the right way
    as_superuser_without_triggers(
        isolated_db,
        "insert into mentoring.status_events (mentor_id, sequence, from_status, to_status,"
        " reason, actor_kind, database_role, occurred_at, hash)"
        " select m.id, 1, 'active', 'expired_cert', 'forged', 'system', 'postgres', now(),"
        "  mentoring.status_event_hash(null, m.id, 1, 'active', 'expired_cert', 'forged', null,"
        "   'system', 'postgres', false, '[]', null, null, now(), null)"
        " from mentoring.mentors m where m.id = %(m)s",
        params={"m": history.untouched.id},
    )
    assert first_problems(verify(isolated_db)) == {history.untouched.id: ("version_mismatch", 1)}


def test_a_forged_event_with_its_mentor_moved_too_is_caught_by_its_link(
    isolated_db: Database, history: History
) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "insert into mentoring.status_events (mentor_id, sequence, from_status, to_status,"
        " reason, actor_kind, database_role, occurred_at, prev_hash, hash)"
        " select e.mentor_id, 3, 'active', 'expired_cert', 'forged', 'system', 'postgres',"
        "  now(), sha256('not the previous hash'), sha256('anything')"
        " from mentoring.status_events e where e.mentor_id = %(m)s"
        "  and e.sequence = 2",
        "update mentoring.mentors set status = 'expired_cert', status_version = 3,"
        " status_changed_at = now() where id = %(m)s",
        params={"m": history.lifted.id},
    )
    assert first_problems(verify(isolated_db)) == {history.lifted.id: ("broken_link", 3)}


def test_a_chain_recomputed_end_to_end_is_caught_by_the_stored_heads(
    isolated_db: Database, history: History
) -> None:
    stored = heads(isolated_db)
    as_superuser_without_triggers(
        isolated_db,
        "update mentoring.status_events set reason = 'Holiday'"
        " where mentor_id = %(m)s and sequence = 1",
        RECHAIN,
        params={"m": history.paused.id},
    )
    # consistent in itself: only what was kept outside the database shows the rewrite
    assert verify(isolated_db).problems == ()
    result = verify(isolated_db, stored=stored)
    assert first_problems(result) == {history.paused.id: ("head_mismatch", 3)}
    assert result.heads_compared == 3


def test_an_erased_trail_is_caught_by_the_stored_heads(
    isolated_db: Database, history: History
) -> None:
    stored = heads(isolated_db)
    as_superuser_without_triggers(
        isolated_db,
        "delete from mentoring.status_events where mentor_id = %(m)s",
        "delete from mentoring.pause_periods where mentor_id = %(m)s",
        "update mentoring.mentors set status_version = 0 where id = %(m)s",
        params={"m": history.lifted.id},
    )
    assert verify(isolated_db).problems == ()
    assert first_problems(verify(isolated_db, stored=stored)) == {
        history.lifted.id: ("head_missing", 2)
    }


def test_newer_events_than_the_stored_heads_verify(isolated_db: Database, history: History) -> None:
    stored = heads(isolated_db)
    with isolated_db.connect() as conn:
        call(conn, history.coordinator, "lift_pause", mentor_id=history.paused.id)
        conn.commit()
    assert verify(isolated_db, stored=stored).problems == ()


def test_an_ended_pause_edited_with_triggers_off_is_detected(
    isolated_db: Database, history: History
) -> None:
    pause_id = pause_of(isolated_db, history.lifted.id, ended=True)
    as_superuser_without_triggers(
        isolated_db,
        "update mentoring.pause_periods set reason = 'Holiday' where id = %(m)s",
        params={"m": pause_id},
    )
    assert first_problems(verify(isolated_db)) == {history.lifted.id: ("hash_mismatch", 1)}


def test_who_ended_a_pause_edited_with_the_guard_disabled_is_detected(
    isolated_db: Database, history: History
) -> None:
    pause_id = pause_of(isolated_db, history.lifted.id, ended=True)
    as_owner_with_disabled(
        isolated_db,
        "mentoring.pause_periods",
        "changed_by_the_state_machine_only",
        "update mentoring.pause_periods set ended_by = null, ended_by_kind = 'system',"
        " end_note = 'by the book'"
        " where id = %(m)s",
        params={"m": pause_id},
    )
    assert first_problems(verify(isolated_db)) == {history.lifted.id: ("hash_mismatch", 2)}


def test_a_forged_pause_is_detected(isolated_db: Database, history: History) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "insert into mentoring.pause_periods (mentor_id, start_date, started_at, reason,"
        " started_by_kind, ended_at, end_date, end_reason, ended_by_kind)"
        " values (%(m)s, current_date - 30, now() - interval '30 days', 'made up', 'system',"
        " now() - interval '20 days', current_date - 20, 'lifted', 'system')",
        params={"m": history.untouched.id},
    )
    assert first_problems(verify(isolated_db)) == {
        history.untouched.id: ("pause_without_event", None)
    }


def test_a_status_changed_behind_the_state_machine_is_detected(
    isolated_db: Database, history: History
) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "update mentoring.mentors set status = 'active', open_pause_id = null where id = %(m)s",
        params={"m": history.paused.id},
    )
    assert first_problems(verify(isolated_db)) == {
        history.paused.id: ("current_status_mismatch", 3)
    }


def test_a_version_moved_behind_the_state_machine_is_detected(
    isolated_db: Database, history: History
) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "update mentoring.mentors set status_version = 7 where id = %(m)s",
        params={"m": history.expired.id},
    )
    assert first_problems(verify(isolated_db)) == {history.expired.id: ("version_mismatch", 7)}


def test_verify_can_look_at_one_mentor(isolated_db: Database, history: History) -> None:
    as_superuser_without_triggers(
        isolated_db,
        "update mentoring.status_events set reason = 'x' where mentor_id = %(m)s",
        params={"m": history.lifted.id},
    )
    mine = verify(isolated_db, mentor_id=history.paused.id, stored=heads(isolated_db))
    assert (mine.mentors, mine.events, mine.heads_compared, mine.problems) == (1, 3, 1, ())
    theirs = verify(isolated_db, mentor_id=history.lifted.id)
    assert first_problems(theirs) == {history.lifted.id: ("hash_mismatch", 1)}


# -- who may verify -------------------------------------------------------------------------


def test_service_role_may_verify_and_a_signed_in_user_may_not(
    isolated_db: Database, history: History
) -> None:
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute("set role service_role")
        assert audit.verify(conn).problems == ()
        assert len(audit.read_heads(conn).heads) == 3
        conn.execute("set role authenticated")
        with pytest.raises(audit.AuditAccessDenied, match="row-level security"):
            audit.verify(conn)


def test_verify_does_not_trust_functions_an_owner_can_replace(
    isolated_db: Database, history: History
) -> None:
    # an owner makes the database's hash function, and a sha256 early in the search path,
    # vouch for anything; then rewrites an event
    with isolated_db.connect() as conn:
        conn.execute(
            "create or replace function mentoring.status_event_hash(prev_hash bytea,"
            " mentor_id uuid, sequence integer, from_status mentoring.mentor_status,"
            " to_status mentoring.mentor_status, reason text, actor_user_id uuid,"
            " actor_kind mentoring.actor_kind, database_role text, forced boolean,"
            " findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamptz,"
            " pause mentoring.pause_periods) returns bytea language sql"
            " set search_path = pg_catalog, pg_temp as $$ select sha256('') $$"
        )
        conn.execute("create function public.sha256(bytea) returns bytea language sql"
                     " as $$ select pg_catalog.sha256(''::bytea) $$")  # fmt: skip
        conn.commit()
    as_owner_with_disabled(
        isolated_db,
        "mentoring.status_events",
        "append_only",
        "update mentoring.status_events set reason = 'x', hash = sha256('')"
        " where mentor_id = %(m)s and sequence = 1",
        params={"m": history.lifted.id},
    )
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute("set search_path = public, pg_catalog")
        assert first_problems(audit.verify(conn)) == {history.lifted.id: ("hash_mismatch", 1)}


CAST_HOOK = (
    "create table public.hook_calls (called_as text)",
    "grant insert on public.hook_calls to public",
    """create function public.status_as_json(mentoring.mentor_status) returns json
    language plpgsql as $$
    begin
      insert into public.hook_calls values (current_user);  -- or COPY ... TO PROGRAM
      return pg_catalog.to_json($1::text);
    end
    $$""",
    "create cast (mentoring.mentor_status as json) with function public.status_as_json",
)


def both_reads_refuse_service_role(conn: psycopg.Connection[Any], finding: str, named: str) -> None:
    """heads and verify, as service_role, refuse with this one finding, naming ``named``."""
    conn.execute("set role service_role")
    for read in (audit.verify, audit.read_heads):
        with pytest.raises(audit.AuditCatalogTampered) as caught:
            read(conn)
        assert [f.finding for f in caught.value.findings] == [finding]
        assert named in caught.value.findings[0].detail


def hook_calls(database: Database) -> list[str]:
    with database.connect() as conn:
        return [row[0] for row in conn.execute("select called_as from public.hook_calls")]


def test_a_cast_the_owner_created_never_runs_as_the_verifier(
    isolated_db: Database, history: History
) -> None:
    with isolated_db.connect() as conn:
        for statement in CAST_HOOK:
            conn.execute(statement)
        # the hook works: to_jsonb of our enum calls it, as whoever converts
        conn.execute("select pg_catalog.to_jsonb('paused'::mentoring.mentor_status)")
        assert conn.execute("select count(*) from public.hook_calls").fetchone() == (1,)
        conn.execute("truncate public.hook_calls")
        conn.commit()
    with isolated_db.connect(autocommit=True) as conn:
        both_reads_refuse_service_role(conn, "cast", "status_as_json")
    assert hook_calls(isolated_db) == []


INDEX_HOOK = (
    """create function public.plan_hook() returns integer language plpgsql immutable as $$
    begin
      perform pg_catalog.set_config('pyproj.hook_ran_as', current_user, false);
      return 0;
    end
    $$""",
    "create index status_events_hook on mentoring.status_events ((sequence + public.plan_hook()))",
)


def hook_ran_as(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("select current_setting('pyproj.hook_ran_as', true)").fetchone()
    return row[0] if row and row[0] else None


def test_an_index_the_owner_added_never_runs_its_code_as_the_verifier(
    isolated_db: Database, history: History
) -> None:
    with isolated_db.connect() as conn:
        for statement in INDEX_HOOK:
            conn.execute(statement)
        conn.commit()
    with isolated_db.connect(autocommit=True) as conn:
        # the hook works: planning a read of the table runs it, as the reader
        conn.execute("set role service_role")
        conn.execute("explain select * from mentoring.status_events where sequence = 1")
        assert hook_ran_as(conn) == "service_role"
    with isolated_db.connect(autocommit=True) as conn:
        both_reads_refuse_service_role(conn, "index_code", "plan_hook")
        assert hook_ran_as(conn) is None


@pytest.mark.parametrize(
    ("change", "finding", "detail"),
    [
        (
            "create table public.more_events () inherits (mentoring.status_events)",
            "child_table",
            "public.more_events inherits from mentoring.status_events",
        ),
        (
            "alter table mentoring.pause_periods alter column end_note type varchar(500)",
            "column_type",
            "mentoring.pause_periods.end_note is character varying(500), not text",
        ),
    ],
    ids=["child table", "column type"],
)
def test_a_changed_table_is_refused_before_anything_is_read(
    isolated_db: Database, history: History, change: str, finding: str, detail: str
) -> None:
    with isolated_db.connect() as conn:
        conn.execute(change)
        conn.commit()
    with (
        isolated_db.connect(autocommit=True) as conn,
        pytest.raises(audit.AuditCatalogTampered) as caught,
    ):
        audit.verify(conn)
    assert [(f.finding, f.detail) for f in caught.value.findings] == [(finding, detail)]


# -- at scale ------------------------------------------------------------------------------


def test_ten_thousand_events_verify_in_seconds(isolated_db: Database) -> None:
    started = time.perf_counter()
    events = ten_thousand_events(isolated_db)
    written = time.perf_counter() - started
    result = verify(isolated_db)
    print(f"\n10,000 events: written in {written:.2f} s, verified in {result.seconds:.2f} s")
    assert result.problems == ()
    assert result.events == events == 10_000
    assert result.seconds < 30  # generous: about a quarter of a second on 2 shared cores
