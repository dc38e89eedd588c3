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
