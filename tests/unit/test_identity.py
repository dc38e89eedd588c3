"""Identities carry the claims Supabase's JWTs carry."""

from __future__ import annotations

import uuid

import pytest

from pyproj_rpc.identity import Identity, Role


def test_a_user_has_sub_role_aud_and_email_claims() -> None:
    user_id = uuid.uuid4()
    assert Identity.user(user_id, "a@b.c").claims() == {
        "role": "authenticated",
        "sub": str(user_id),
        "aud": "authenticated",
        "email": "a@b.c",
    }


def test_anon_and_service_carry_only_their_role() -> None:
    assert Identity.anon().claims() == {"role": "anon"}
    assert Identity.service().claims() == {"role": "service_role"}


def test_an_authenticated_identity_without_a_user_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a user id"):
        Identity(Role.AUTHENTICATED)


def test_a_service_identity_with_a_user_is_refused() -> None:
    with pytest.raises(ValueError, match="has no user id"):
        Identity(Role.SERVICE_ROLE, user_id=uuid.uuid4())


def test_verified_claims_become_the_identity_and_go_to_the_database_unchanged() -> None:
    user_id = uuid.uuid4()
    claims = {
        "role": "authenticated",
        "sub": str(user_id),
        "aud": "authenticated",
        "email": "a@b.c",
        "exp": 1_900_000_000,
        "session_id": "s-1",
        "app_metadata": {"provider": "email"},
    }
    identity = Identity.from_claims(claims)
    assert (identity.role, identity.user_id, identity.email) == (
        Role.AUTHENTICATED,
        user_id,
        "a@b.c",
    )
    assert identity.claims() == claims


def test_a_token_without_a_role_is_anon_and_a_service_key_needs_no_audience() -> None:
    assert Identity.from_claims({"iss": "supabase"}).claims() == {"iss": "supabase", "role": "anon"}
    service = Identity.from_claims({"role": "service_role", "iss": "supabase"})
    assert service.role is Role.SERVICE_ROLE
    assert service.claims() == {"role": "service_role", "iss": "supabase"}


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "postgres"},
        {"role": "authenticated"},
        {"role": "authenticated", "sub": "not-a-uuid"},
        {"role": "authenticated", "sub": 42},
    ],
)
def test_claims_naming_another_role_or_no_user_are_refused(claims: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        Identity.from_claims(claims)
