"""The REST adapter's JSON: request bodies, response models and the error body.

Response models are generated once from the dataclasses the Python client reads the RPC
results into (:mod:`pyproj_rpc.models`), with camelCase field names; they validate every
response and document it in the OpenAPI document. Request bodies accept camelCase fields
only, refuse unknown ones and do not coerce types; text must be text PostgreSQL can hold
(no NUL, no lone surrogate).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import date
from typing import Annotated, Any, Union
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
)
from pydantic import create_model as pydantic_create_model
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from pyproj_rpc import calls, models, statemachine
from pyproj_rpc.api_errors import InvalidInput

_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _uuid_text(value: Any) -> Any:
    if isinstance(value, UUID) or (isinstance(value, str) and _CANONICAL_UUID.fullmatch(value)):
        return value
    raise ValueError("must be a UUID (8-4-4-4-12 hexadecimal digits)")


def _date_text(value: Any) -> Any:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a date as YYYY-MM-DD")


def _storable_text(value: str, info: ValidationInfo) -> str:
    try:
        return calls.storable_text(value, info.field_name or "text")
    except InvalidInput as exc:
        raise PydanticCustomError(
            "unstorable_text", "{problem}", {"problem": exc.message}
        ) from None


# UUIDs and dates as JSON text only: no number, no other spelling.
UuidText = Annotated[UUID, BeforeValidator(_uuid_text)]
DateText = Annotated[date, BeforeValidator(_date_text)]
# Text PostgreSQL can hold: no NUL, no lone surrogate (400 with the field's location).
StorableText = Annotated[StrictStr, AfterValidator(_storable_text)]


class CamelModel(BaseModel):
    """JSON fields in camelCase; the one snake_case to camelCase converter of the REST API.

    A response model also reads the result dataclasses, by attribute name.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        from_attributes=True,
        extra="forbid",
    )


class RequestBody(CamelModel):
    """A request body: camelCase fields only, unknown fields refused."""

    model_config = ConfigDict(validate_by_name=False, from_attributes=False)


class ActivatePauseBody(RequestBody):
    """Why the mentor pauses, until when, and whether staff override blocking preconditions."""

    reason: StorableText = Field(
        description="Why: 1-500 characters once trimmed; no NUL character.",
        examples=["Family leave"],
    )
    expected_return_date: DateText | None = Field(
        default=None,
        description="The expected return: after today, within 365 days (organization's date).",
    )
    force: StrictBool = Field(
        default=False,
        description="Coordinators and admins only: pause despite blocking preconditions.",
    )


class ReasonBody(RequestBody):
    """An optional note for the audit trail."""

    reason: StorableText | None = Field(
        default=None,
        description="A note for the audit trail: at most 500 characters; no NUL character.",
    )


class ErrorBody(BaseModel):
    """PostgREST's error body."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Stable: an error code of the contract, or PGRST3xx.")
    message: str = Field(description="For humans.")
    details: Any = Field(default=None, description="Structured details, or null.")
    hint: str | None = Field(default=None, description="What to do about it, or null.")


class Health(BaseModel):
    """The service and its database answer."""

    status: str = Field(examples=["ok"])


# -- response models, generated from the dataclasses ------------------------------------

_generated: dict[type[Any], type[CamelModel]] = {}


def response_model(cls: type[Any], name: str | None = None) -> type[CamelModel]:
    """The camelCase pydantic model of a result dataclass (and of the dataclasses it holds)."""
    if cls not in _generated:
        hints = typing.get_type_hints(cls)
        fields: dict[str, Any] = {
            field.name: (_field_type(hints[field.name]), ...) for field in dataclasses.fields(cls)
        }
        _generated[cls] = pydantic_create_model(
            name or cls.__name__,
            __base__=CamelModel,
            __doc__=(cls.__doc__ or "").replace("``", "`"),
            __module__=__name__,
            **fields,
        )
    return _generated[cls]


def _field_type(hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return response_model(hint)
    if origin in (Union, types.UnionType):
        converted = tuple(_field_type(arg) for arg in args)
        return Union[converted]  # noqa: UP007 (built from a tuple of types)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[_field_type(args[0])]  # type: ignore[misc]
    return hint


TransitionResult = response_model(models.TransitionResult)
CurrentStatus = response_model(models.CurrentStatus)
PauseHistory = response_model(models.PauseHistory)
PausedMentor = response_model(models.PausedMentor)
TransitionRule = response_model(statemachine.Rule, name="TransitionRule")
