"""Which database the commands talk to."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.settings import resolve_database_url, sqlalchemy_url


def test_an_explicit_url_wins_over_database_url() -> None:
    env = {"DATABASE_URL": "postgresql://env/db"}
    assert resolve_database_url("postgresql://explicit/db", env) == "postgresql://explicit/db"


def test_database_url_is_used_when_nothing_is_explicit() -> None:
    assert resolve_database_url(None, {"DATABASE_URL": "postgresql://env/db"}) == (
        "postgresql://env/db"
    )


def test_without_any_database_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYPROJ_RPC_HOME", str(tmp_path))
    with pytest.raises(ConfigurationError, match="pyproj-rpc db local start"):
        resolve_database_url(None, {})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_sqlalchemy_gets_the_psycopg3_driver(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected
