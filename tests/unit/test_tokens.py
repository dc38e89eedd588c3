"""Development tokens: the claims Supabase would issue, a lifetime with a unit, and a
signature the REST adapter accepts."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.identity import Role
from pyproj_rpc.rest.auth import AuthenticationError, JwtConfig, TokenVerifier
from pyproj_rpc.tokens import claims_for, parse_ttl, sign

SECRET = "unit-test-secret-of-at-least-32-characters"
USER = UUID("5f0c3f8e-8a86-4a4f-9a4c-1b2f1f6f2a11")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800), ("1h30m", 5400)]
)
def test_a_lifetime_with_a_unit_is_read_as_seconds(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["60", "1.5", " 7 ", "soon", "0s", "-1h"])
def test_a_lifetime_without_a_unit_or_not_positive_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--ttl"):
        parse_ttl(text)


def test_an_access_token_has_supabase_claims_and_the_adapter_accepts_it() -> None:
    claims = claims_for("authenticated", user_id=USER, email="ada@example.org", now=1_000)
    assert claims["exp"] == 1_000 + 3600
    assert (claims["aud"], claims["role"], claims["sub"]) == (
        "authenticated",
        "authenticated",
        str(USER),
    )
    assert claims["is_anonymous"] is False
    fresh = claims_for("authenticated", user_id=USER, email="ada@example.org")
    identity = asyncio.run(
        TokenVerifier(JwtConfig(secret=SECRET)).identity(f"Bearer {sign(fresh, SECRET)}")
    )
    assert (identity.role, identity.user_id, identity.email) == (
        Role.AUTHENTICATED,
        USER,
        "ada@example.org",
    )


def test_a_service_role_token_is_accepted_as_service_role() -> None:
    token = sign(claims_for("service_role", user_id=None), SECRET)
    identity = asyncio.run(TokenVerifier(JwtConfig(secret=SECRET)).identity(f"Bearer {token}"))
    assert identity.role is Role.SERVICE_ROLE


def test_a_token_from_another_secret_is_not_accepted() -> None:
    token = sign(
        claims_for("authenticated", user_id=USER), "another-secret-of-at-least-32-characters"
    )
    with pytest.raises(AuthenticationError):
        asyncio.run(TokenVerifier(JwtConfig(secret=SECRET)).identity(f"Bearer {token}"))
