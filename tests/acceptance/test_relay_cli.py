"""`pyproj-rpc outbox ...` and the relay's usage errors, as an operator runs them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pyproj_rpc.cli import exit_codes, main
from tests.conftest import Database
from tests.relay_support import outbox_rows, pause_mentors


def run(database: Database, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--database-url", database.url])


def ok(result: Result) -> str:
    assert result.exit_code == exit_codes.OK, result.stderr
    return result.stdout


@pytest.fixture
def backlog(isolated_db: Database) -> list[int]:
    """Five rows: two delivered (one of them long ago), one dead, one retrying, one new."""
    ids = pause_mentors(isolated_db.url, 5)
    old, recent, dying, retrying, new = ids
    with isolated_db.connect(autocommit=True) as conn:
        claims = dict(
            conn.execute("select id, claim_id from mentoring.claim_outbox(10, '1 minute')")
        )
        conn.execute("select mentoring.outbox_delivered(%s)", ([old, recent],))
        conn.execute(
            "update mentoring.outbox set delivered_at = now() - interval '10 days' where id = %s",
            (old,),
        )
        conn.execute(
            "select mentoring.outbox_failed(%s, %s, 'HTTP 503: busy', null)",
            (dying, claims[dying]),
        )
        conn.execute(
            "select mentoring.outbox_failed(%s, %s, 'HTTP 503: busy', now() + interval '1 hour')",
            (retrying, claims[retrying]),
        )
        conn.execute("select mentoring.outbox_release(%s, %s)", (claims[new], [new]))
    return ids


def test_status_counts_the_backlog_by_state(isolated_db: Database, backlog: list[int]) -> None:
    stats = json.loads(ok(run(isolated_db, "outbox", "status", "--json")))
    assert {k: stats[k] for k in ("pending", "due", "in_flight", "dead", "delivered")} == {
        "pending": 2,
        "due": 1,
        "in_flight": 0,
        "dead": 1,
        "delivered": 2,
    }
    assert stats["oldest_pending_at"] is not None
    text = ok(run(isolated_db, "outbox", "status"))
    assert "pending      2" in text
    assert "oldest pending: " in text


def test_list_shows_rows_of_a_state_with_their_last_error(
    isolated_db: Database, backlog: list[int]
) -> None:
    _old, _recent, dying, retrying, new = backlog
    pending = json.loads(ok(run(isolated_db, "outbox", "list", "--json")))
    assert [(r["id"], r["webhook_id"]) for r in pending] == [
        (new, f"msg_{new}"),
        (retrying, f"msg_{retrying}"),
    ]  # oldest due first
    [dead] = json.loads(ok(run(isolated_db, "outbox", "list", "--state", "dead", "--json")))
    assert (dead["id"], dead["last_error"], dead["state"]) == (dying, "HTTP 503: busy", "dead")
    table = ok(run(isolated_db, "outbox", "list", "--state", "all", "--limit", "3"))
    assert len(table.splitlines()) == 4  # a header and three rows
    assert "active -> paused" in table


def test_retry_requeues_the_dead_letters_named_or_all(
    isolated_db: Database, backlog: list[int]
) -> None:
    dying = backlog[2]
    assert ok(run(isolated_db, "outbox", "retry", "--id", str(backlog[0]))) == (
        "requeued 0 dead-lettered rows\n"  # a delivered row is not a dead letter
    )
    assert ok(run(isolated_db, "outbox", "retry", "--id", str(dying))) == (
        "requeued 1 dead-lettered row\n"
    )
    row = outbox_rows(isolated_db.url)[dying]
    assert (row["dead_at"], row["attempts"]) == (None, 0)
    assert ok(run(isolated_db, "outbox", "retry")) == "requeued 0 dead-lettered rows\n"


def test_purge_delivered_removes_only_delivered_rows_past_the_retention(
    isolated_db: Database, backlog: list[int]
) -> None:
    output = ok(run(isolated_db, "outbox", "purge-delivered", "--older-than", "7d"))
    assert output == "purged 1 delivered row\n"
    assert backlog[0] not in outbox_rows(isolated_db.url)
    assert len(outbox_rows(isolated_db.url)) == 4


def test_purge_delivered_without_a_unit_is_refused_and_purges_nothing(
    isolated_db: Database, backlog: list[int]
) -> None:
    result = run(isolated_db, "outbox", "purge-delivered", "--older-than", "7")
    assert result.exit_code == exit_codes.USAGE
    assert "needs a unit: 7s, 7m, 7h or 7d?" in result.stderr
    assert sorted(outbox_rows(isolated_db.url)) == sorted(backlog)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: say where notifications go: --webhook-url, --stdout or --config"),
        (("--webhook-url", "https://hooks.example.org/x"), "needs at least one --webhook-secret"),
        (("--webhook-url", "https://x.example", "--webhook-secret", "hunter2"), "whsec_"),
        (("--stdout", "--poll-interval", "soon"), "not a duration"),
        (("--stdout", "--timeout", "10s", "--lease", "5s"), "must exceed the delivery timeout"),
        (("--stdout", "--schedule", "15"), "needs a unit: 15s, 15m"),
        (("--stdout", "--once", "--schedule", "15m"), "--once delivers what is due and exits"),
    ],
)
def test_relay_usage_errors_exit_2_with_a_reason(
    isolated_db: Database, args: tuple[str, ...], message: str
) -> None:
    result: Any = run(isolated_db, "relay", *args)
    assert result.exit_code == exit_codes.USAGE
    assert message in result.stderr


def test_outbox_commands_refuse_a_role_they_cannot_take(isolated_db: Database) -> None:
    result = run(isolated_db, "outbox", "status", "--role", "no_such_role")
    assert result.exit_code == exit_codes.USAGE
    assert "no_such_role" in result.stderr


def test_outbox_commands_use_no_operator_another_role_planted_in_public(
    isolated_db: Database, backlog: list[int]
) -> None:
    # As on Supabase, where authenticated may create in public: for `payload -> 'mentor'`
    # an exact ->(jsonb, jsonb) beats pg_catalog's ->(jsonb, text).
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute("grant create on schema public to authenticated")
        conn.execute("set role authenticated")
        conn.execute(
            "create function public.planted_arrow(jsonb, jsonb) returns jsonb"
            " language sql as $$ select '\"planted\"'::jsonb $$"
        )
        conn.execute(
            "create operator public.-> (leftarg = jsonb, rightarg = jsonb,"
            " function = public.planted_arrow)"
        )
        conn.execute("reset role")
        planted = conn.execute("""select '{"mentor": {}}'::jsonb -> '{}'""").fetchone()
        assert planted == ("planted",)
    rows = json.loads(ok(run(isolated_db, "outbox", "list", "--state", "all", "--json")))
    assert {r["id"] for r in rows} == set(backlog)
    assert all(r["mentor"] != "planted" for r in rows)
