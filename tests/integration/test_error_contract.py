"""Error codes: one table in the database, one class each in Python, same HTTP status."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest

from pyproj_rpc.api_errors import ERRORS_BY_CODE, from_database_error
from pyproj_rpc.resources import resource_dir


def test_python_has_one_class_per_database_error_code_with_the_same_status(
    db: psycopg.Connection[Any],
) -> None:
    table = dict(db.execute("select code, http_status from mentoring.error_codes").fetchall())
    assert {code: cls.http_status for code, cls in ERRORS_BY_CODE.items()} == table


def test_every_code_the_sql_raises_is_in_the_error_table(db: psycopg.Connection[Any]) -> None:
    raised: set[str] = set()
    for path in (resource_dir("db") / "migrations").rglob("*.sql"):
        text = path.read_text()
        raised |= set(re.findall(r"raise_error\(\s*'([a-z_]+)'", text))
        raised |= set(re.findall(r"'code', '([a-z_]+)'", text))
    table = {row[0] for row in db.execute("select code from mentoring.error_codes").fetchall()}
    assert raised <= table
    assert raised


def test_a_raised_error_is_what_postgrest_needs_to_build_its_response(
    db: psycopg.Connection[Any],
) -> None:
    with pytest.raises(psycopg.Error) as caught:
        db.execute(
            "select mentoring.raise_error('transition_not_allowed', 'no', '{\"a\": 1}', 'hint!')"
        )
    assert caught.value.sqlstate == "PGRST"
    body = json.loads(caught.value.diag.message_primary or "")
    response = json.loads(caught.value.diag.message_detail or "")
    # PostgREST reads code/message as strings and details/hint as optional strings.
    assert body == {
        "code": "transition_not_allowed",
        "message": "no",
        "details": '{"a": 1}',
        "hint": "hint!",
    }
    assert response == {"status": 409, "headers": {}}
    error = from_database_error(caught.value)
    assert error is not None
    assert (error.code, error.details, error.hint) == ("transition_not_allowed", {"a": 1}, "hint!")


def test_an_unknown_code_is_a_bug_not_a_silent_500(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.RaiseException, match="unknown error code"):
        db.execute("select mentoring.raise_error('made_up', 'x')")
