"""Text PostgreSQL cannot hold (a NUL, a lone surrogate) is InvalidInput before the database.

One check, :func:`pyproj_rpc.calls.storable_text`, serves the clients' argument checks,
the REST request bodies and the REST adapter's token claims; what still gets past it
(psycopg's own refusals) maps to InvalidInput with the original error as its cause.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pydantic
import pytest

from pyproj_rpc import calls
from pyproj_rpc.api_errors import InvalidInput, from_database_error, from_unencodable_text
from pyproj_rpc.rest.auth import JwtConfig, TokenVerifier
from pyproj_rpc.rest.schemas import ActivatePauseBody, ReasonBody
from tests.rest_support import SECRET, mint

HOSTILE = {
    "a NUL": ("on\x00leave", "NUL"),
    "the first surrogate": ("\ud800", "surrogate"),
    "the last surrogate": ("x\udfff", "surrogate"),
    "an undecodable byte of argv": ("caf\udce9", "surrogate"),  # b"caf\xe9", surrogateescape
}
FINE = ["Family leave", "", "  ", "é", "😀 emoji beyond the BMP", "\ud7ff\ue000", "\t\n"]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_text_postgresql_cannot_hold_is_invalid_input_naming_the_field(case: str) -> None:
    text, what = HOSTILE[case]
    with pytest.raises(InvalidInput) as refused:
        calls.storable_text(text, "reason")
    assert refused.value.details == {"field": "reason"}
    assert what in refused.value.message
    assert "reason" in refused.value.message
    assert "PostgreSQL text cannot hold" in refused.value.message


@pytest.mark.parametrize("text", FINE)
def test_any_other_text_passes_unchanged(text: str) -> None:
    assert calls.storable_text(text, "reason") is text


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_every_call_with_a_reason_refuses_it_before_the_database(case: str) -> None:
    text, _ = HOSTILE[case]
    mentor = uuid.uuid4()
    makers: list[Callable[[], object]] = [
        lambda: calls.activate_pause(mentor, text),
        lambda: calls.activate_pause(mentor, f"  {text}  "),
        lambda: calls.lift_pause(mentor, text),
        lambda: calls.reactivate_mentor(mentor, text),
    ]
    for make in makers:
        with pytest.raises(InvalidInput) as refused:
            make()
        assert refused.value.details == {"field": "reason"}


def test_every_string_of_a_json_value_is_checked_keys_included() -> None:
    fine = {"sub": "x", "app_metadata": {"roles": ["a", "é"], "n": 1, "none": None}}
    assert calls.storable_json(fine, "Authorization") is fine
    for hostile in (
        {"app_metadata": {"roles": ["a", "b\x00"]}},
        {"nested": [[{"deep": "\ud800"}]]},
        {"no\x00te": 1},
        ("tuple", "\udfff"),
    ):
        with pytest.raises(InvalidInput) as refused:
            calls.storable_json(hostile, "Authorization", what="a claim of the token")
        assert refused.value.details == {"field": "Authorization"}
        assert refused.value.message.startswith("a claim of the token contains")


def test_deeply_nested_json_is_checked_without_exhausting_the_stack() -> None:
    value: Any = "\x00"
    for _ in range(100_000):
        value = [value]
    with pytest.raises(InvalidInput):
        calls.storable_json(value, "Authorization")


# -- the REST request bodies ------------------------------------------------------------

BODIES: dict[str, type[pydantic.BaseModel]] = {
    "ActivatePauseBody": ActivatePauseBody,
    "ReasonBody": ReasonBody,
}


@pytest.mark.parametrize("model", sorted(BODIES))
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_request_body_refuses_such_a_reason_at_its_location(model: str, case: str) -> None:
    text, what = HOSTILE[case]
    with pytest.raises(pydantic.ValidationError) as refused:
        BODIES[model].model_validate({"reason": text})
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == (("reason",), "unstorable_text")
    assert what in error["msg"]
    # The documented schema is still plain text (or null, where the reason is optional).
    documented = BODIES[model].model_json_schema()["properties"]["reason"]
    assert documented.get("type", documented.get("anyOf")) in (
        "string",
        [{"type": "string"}, {"type": "null"}],
    )


# -- the token's claims -----------------------------------------------------------------

CLAIMS: dict[str, dict[str, Any]] = {
    "sub": {"sub": "\x00"},
    "email": {"email": "a\x00@example.org"},
    "an extra claim": {"app_metadata": {"note": "\ud800"}},
    "a claim's name": {"no\udc80te": "x"},
}


@pytest.mark.parametrize("case", sorted(CLAIMS))
def test_a_verified_token_with_such_a_claim_is_invalid_input_naming_authorization(
    case: str,
) -> None:
    claims: dict[str, Any] = {"role": "authenticated", "sub": str(uuid.uuid4())}
    claims |= CLAIMS[case]
    verifier = TokenVerifier(JwtConfig(secret=SECRET))
    with pytest.raises(InvalidInput) as refused:
        asyncio.run(verifier.identity(f"Bearer {mint(claims)}"))
    assert refused.value.details == {"field": "Authorization"}
    assert "claim of the token" in refused.value.message


# -- what gets past the checks: psycopg's own refusals -----------------------------------


def test_psycopgs_refusal_of_a_nul_maps_to_invalid_input() -> None:
    # What psycopg raises, before sending anything, for a NUL in a text parameter.
    with pytest.raises(psycopg.DataError) as raised:
        psycopg.types.string.StrDumper(str).dump("a\x00b")
    assert raised.value.sqlstate is None
    error = from_database_error(raised.value)
    assert isinstance(error, InvalidInput)
    assert "NUL" in error.message


def test_a_surrogate_psycopg_cannot_encode_maps_to_invalid_input() -> None:
    with pytest.raises(UnicodeEncodeError) as raised:
        psycopg.types.string.StrDumper(str).dump("a\ud800b")
    error = from_unencodable_text(raised.value)
    assert isinstance(error, InvalidInput)
    assert "cannot encode" in error.message
    error.message.encode("utf-8")  # the message itself holds no surrogate
