"""`pyproj-rpc db logins` refuses weak passwords and odd names before any SQL is sent."""

from __future__ import annotations

import pytest

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.logins import (
    API,
    RELAY,
    LoginReport,
    WeakPassword,
    check_login_name,
    check_password,
    requests_from_env,
)

GOOD = "9f2c4e1a7b3d8c6e0a5f"
OTHER_GOOD = "4b8e1d9c2a7f3e6b0c5d"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (None, "is not set or empty"),
        ("", "is not set or empty"),
        ("change-me-api-login-password", "still a placeholder"),
        ("CHANGEME-0123456789abcdef", "still a placeholder"),
        ("9f2c4e1a7b3d", "too short (12 characters, at least 16)"),
        ("abababababababababab", "too few characters"),
        ("pyproj_api-9f2c4e1a7b3d", "contains the login's name"),
        ("9f2c4e1a7b3d8c6e\n0a5f", "control characters"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason_and_how_to_make_one(
    password: str | None, reason: str
) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_password(password, login="pyproj_api", source="PYPROJ_API_DB_PASSWORD")
    message = str(refused.value)
    assert message.startswith("PYPROJ_API_DB_PASSWORD ")
    assert reason in message
    assert "openssl rand -hex 32" in message
    assert password is None or password == "" or password not in message  # never echoed


def test_a_random_password_is_accepted() -> None:
    assert check_password(GOOD, login="pyproj_api", source="X") == GOOD


@pytest.mark.parametrize("name", ["postgres", "authenticator", "service_role", "mentoring_relay"])
def test_a_login_cannot_take_the_name_of_a_role_the_stack_uses(name: str) -> None:
    with pytest.raises(ConfigurationError, match="already uses"):
        check_login_name(name)


@pytest.mark.parametrize("name", ["Pyproj", "api-login", 'x"; drop role postgres; --', ""])
def test_a_login_name_is_a_plain_lower_case_identifier(name: str) -> None:
    with pytest.raises(ConfigurationError, match="lower-case letters"):
        check_login_name(name)


def test_the_two_logins_need_different_passwords() -> None:
    env = {API.password_env: GOOD, RELAY.password_env: GOOD}
    with pytest.raises(WeakPassword, match="each login needs its own password"):
        requests_from_env([(API, API.name), (RELAY, RELAY.name)], env)
    env[RELAY.password_env] = OTHER_GOOD
    requests = requests_from_env([(API, API.name), (RELAY, RELAY.name)], env)
    assert [(r.name, r.password) for r in requests] == [
        ("pyproj_api", GOOD),
        ("pyproj_relay", OTHER_GOOD),
    ]


def test_the_logins_grant_what_their_service_switches_to_and_nothing_else() -> None:
    assert API.roles == ("anon", "authenticated", "service_role")
    assert RELAY.roles == ("mentoring_relay",)


def test_a_report_says_what_changed() -> None:
    created = LoginReport("pyproj_relay", True, ("mentoring_relay",), ("mentoring_relay",), ())
    assert created.describe() == (
        "created login pyproj_relay: NOINHERIT, may SET ROLE mentoring_relay"
    )
    updated = LoginReport("pyproj_relay", False, ("mentoring_relay",), (), ("service_role",))
    assert updated.describe() == (
        "updated login pyproj_relay (password set; revoked service_role): "
        "NOINHERIT, may SET ROLE mentoring_relay"
    )
