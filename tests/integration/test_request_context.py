"""postgrest_request sets up a request exactly as PostgREST does."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from pyproj_rpc.identity import Identity, postgrest_request


def test_a_user_request_runs_as_authenticated_with_the_users_claims(
    db: psycopg.Connection[Any],
) -> None:
    user_id = uuid.uuid4()
    with postgrest_request(
        db, Identity.user(user_id, "m@example.org"), method="GET", path="/rpc/get_current_status"
    ) as cur:
        row = cur.execute(
            "select current_user, auth.uid(), auth.role(), auth.jwt() as jwt,"
            " current_setting('request.method') as method,"
            " current_setting('request.path') as path"
        ).fetchone()
    assert row is not None
    assert row["current_user"] == "authenticated"
    assert row["uid"] == user_id
    assert row["role"] == "authenticated"
    assert row["jwt"] == {
        "role": "authenticated",
        "sub": str(user_id),
        "aud": "authenticated",
        "email": "m@example.org",
    }
    assert (row["method"], row["path"]) == ("GET", "/rpc/get_current_status")


def test_a_nested_request_puts_the_previous_role_and_claims_back(
    db: psycopg.Connection[Any],
) -> None:
    with postgrest_request(db, Identity.service()) as cur:
        assert cur.execute("select current_user").fetchone() == {"current_user": "service_role"}
    row = db.execute("select current_user, current_setting('request.jwt.claims', true)").fetchone()
    assert row == ("postgres", "")


def test_a_failed_request_leaves_the_outer_transaction_usable(
    db: psycopg.Connection[Any],
) -> None:
    with (
        pytest.raises(psycopg.errors.DivisionByZero),
        postgrest_request(db, Identity.anon()) as cur,
    ):
        cur.execute("select 1 / 0")
    assert db.execute("select current_user").fetchone() == ("postgres",)


def test_a_request_on_an_idle_connection_is_its_own_transaction(isolated_db: Any) -> None:
    with isolated_db.connect() as conn:
        with postgrest_request(conn, Identity.service()) as cur:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            assert cur.execute("select current_user").fetchone() == {"current_user": "service_role"}
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        row = conn.execute(
            "select current_user, coalesce(current_setting('request.jwt.claims', true), '')"
        ).fetchone()
        assert row == ("postgres", "")


def test_a_get_request_is_read_only_as_through_postgrest(isolated_db: Any) -> None:
    with isolated_db.connect() as conn:
        with postgrest_request(conn, Identity.service(), method="GET") as cur:
            assert cur.execute("show transaction_read_only").fetchone() == {
                "transaction_read_only": "on"
            }
        with postgrest_request(conn, Identity.service(), method="POST") as cur:
            assert cur.execute("show transaction_read_only").fetchone() == {
                "transaction_read_only": "off"
            }
