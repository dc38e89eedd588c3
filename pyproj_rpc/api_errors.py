"""The errors of the RPC contract: one class per code of ``mentoring.error_codes``.

The database raises them with PostgREST's ``RAISE SQLSTATE 'PGRST'`` convention: the
message is JSON ``{code, message, details, hint}`` and the detail carries the HTTP status.
:func:`from_database_error` turns a psycopg error into the matching class (and
:func:`from_unencodable_text` psycopg's failure to encode text); callers raise it ``from``
the original error, which stays available as ``__cause__``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, ClassVar

import psycopg

from pyproj_rpc.errors import PyprojRpcError

PGRST_SQLSTATE = "PGRST"
INSUFFICIENT_PRIVILEGE = "42501"
BAD_INPUT_SQLSTATE_CLASSES = ("22",)  # data exceptions: bad uuid, bad date, ...
RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


class PauseManagementError(PyprojRpcError):
    """A request the database refused. ``code`` is stable; ``message`` is for humans."""

    code: ClassVar[str] = "pause_management_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Any = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        """PostgREST's error body: ``{code, message, details, hint}``."""
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "hint": self.hint,
        }


class InvalidInput(PauseManagementError):
    """An argument is missing, malformed or out of range."""

    code = "invalid_input"
    http_status = 400


class Unauthenticated(PauseManagementError):
    """The request has no signed-in user."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(PauseManagementError):
    """The caller may see the mentor but not take this transition."""

    code = "forbidden"
    http_status = 403


class MentorNotFound(PauseManagementError):
    """No such mentor, or not one the caller may see."""

    code = "mentor_not_found"
    http_status = 404


class TransitionNotAllowed(PauseManagementError):
    """The state machine has no such transition from the current status."""

    code = "transition_not_allowed"
    http_status = 409


class PreconditionFailed(PauseManagementError):
    """A pause precondition blocks the pause; ``details["findings"]`` lists why."""

    code = "precondition_failed"
    http_status = 409


class CertificationLapsed(PauseManagementError):
    """The transition needs a valid certification today."""

    code = "certification_lapsed"
    http_status = 409


class CertificationValid(PauseManagementError):
    """The certification is still valid: nothing to expire."""

    code = "certification_valid"
    http_status = 409


class ConcurrentUpdate(PauseManagementError):
    """Another change to the mentor got in the way; retrying is safe."""

    code = "concurrent_update"
    http_status = 409


class IdempotencyConflict(PauseManagementError):
    """The idempotency key was used before with other arguments."""

    code = "idempotency_conflict"
    http_status = 422


ERRORS_BY_CODE: dict[str, type[PauseManagementError]] = {
    cls.code: cls
    for cls in (
        InvalidInput,
        Unauthenticated,
        Forbidden,
        MentorNotFound,
        TransitionNotAllowed,
        PreconditionFailed,
        CertificationLapsed,
        CertificationValid,
        ConcurrentUpdate,
        IdempotencyConflict,
    )
}


# What a database without our schema answers (``pyproj-rpc db upgrade`` not run).
NOT_MIGRATED: tuple[type[psycopg.Error], ...] = (
    psycopg.errors.InvalidSchemaName,
    psycopg.errors.UndefinedTable,
    psycopg.errors.UndefinedFunction,
)


def from_database_error(
    exc: psycopg.Error, *, anonymous: bool = False
) -> PauseManagementError | None:
    """The contract error a psycopg error stands for, or None for anything unexpected."""
    sqlstate = exc.sqlstate or ""
    diag = exc.diag
    if sqlstate == PGRST_SQLSTATE:
        return _from_pgrst(diag.message_primary or "")
    if sqlstate == INSUFFICIENT_PRIVILEGE:
        # As PostgREST: 401 without a signed-in user, 403 with one.
        cls: type[PauseManagementError] = Unauthenticated if anonymous else Forbidden
        return cls(diag.message_primary or "permission denied")
    if sqlstate.startswith(BAD_INPUT_SQLSTATE_CLASSES):
        return InvalidInput(diag.message_primary or "invalid input", hint=diag.message_hint)
    if sqlstate in RACE_SQLSTATES:
        return ConcurrentUpdate(diag.message_primary or "concurrent update", hint="retry")
    if not sqlstate and isinstance(exc, psycopg.DataError):
        # psycopg's own refusal of a parameter, before the server sees it (NUL in text).
        return InvalidInput(str(exc) or "invalid input")
    return None


def from_unencodable_text(exc: UnicodeEncodeError) -> InvalidInput:
    """The refusal of a parameter psycopg cannot encode (a lone surrogate, for UTF-8)."""
    return InvalidInput(
        f"text contains a character {exc.encoding} cannot encode ({exc.reason}), "
        "which PostgreSQL text cannot hold"
    )


def _from_pgrst(raw: str) -> PauseManagementError | None:
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        return None
    cls = ERRORS_BY_CODE.get(body.get("code", ""))
    if cls is None:
        return None
    details = body.get("details")
    if isinstance(details, str):
        with contextlib.suppress(json.JSONDecodeError):
            details = json.loads(details)
    return cls(body.get("message", ""), details=details, hint=body.get("hint"))
