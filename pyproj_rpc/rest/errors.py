"""Every failure as PostgREST's body ``{code, message, details, hint}``, with its status.

- a refusal of the database: its :class:`~pyproj_rpc.api_errors.PauseManagementError`'s
  status and body, exactly as through PostgREST;
- a malformed request (a body not UTF-8 or not JSON, types, unknown fields, UUIDs, text
  PostgreSQL cannot hold): 400 ``invalid_input``, before the database is touched;
- a token we refuse: 401 ``PGRST301``/``PGRST303`` with a ``WWW-Authenticate`` challenge;
- no database connection in time (pool exhausted, database down): 503
  ``service_unavailable`` with ``Retry-After``;
- anything else: 500 ``internal_error``, logged here; no SQL or traceback reaches the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyproj_rpc.api_errors import ERRORS_BY_CODE, NOT_MIGRATED, PauseManagementError
from pyproj_rpc.queries import query
from pyproj_rpc.rest.auth import (
    INVALID_CLAIMS,
    UNVERIFIED_TOKEN,
    AuthenticationError,
    KeysUnavailable,
)
from pyproj_rpc.rest.schemas import ErrorBody

logger = logging.getLogger("pyproj_rpc.rest")

INVALID_INPUT = "invalid_input"
SERVICE_UNAVAILABLE = "service_unavailable"
INTERNAL_ERROR = "internal_error"
RETRY_AFTER_SECONDS = 1


class ServiceUnavailable(Exception):
    """The service cannot answer now (no database, database not migrated); retry later."""


def error_body(code: str, message: str, details: Any = None, hint: str | None = None) -> Any:
    """PostgREST's error body."""
    return {"code": code, "message": message, "details": details, "hint": hint}


def error_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def unavailable(message: str) -> JSONResponse:
    """503 with ``Retry-After``: overloaded, or the database is down."""
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        error_body(SERVICE_UNAVAILABLE, message, hint="retry later"),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PauseManagementError)
    challenge = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return error_response(exc.http_status, exc.to_dict(), challenge)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _invalid_input([_problem(error) for error in exc.errors()])


def _invalid_input(problems: list[dict[str, Any]]) -> JSONResponse:
    first = problems[0] if problems else {"in": "request", "field": None, "message": "invalid"}
    where = f"{first['in']} {first['field']}" if first["field"] else first["in"]
    message = f"{where}: {first['message']}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    details = {"field": first["field"], "errors": problems}
    return error_response(HTTPStatus.BAD_REQUEST, error_body(INVALID_INPUT, message, details))


def _problem(error: Any) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ())]
    where = location[0] if location else "request"
    if error.get("type") == "json_invalid":
        return {"in": where, "field": None, "message": "not valid JSON", "type": "json_invalid"}
    return {
        "in": where,
        "field": ".".join(location[1:]) or None,
        "message": str(error.get("msg", "invalid")).removeprefix("Value error, "),
        "type": str(error.get("type", "invalid")),
    }


async def _unauthenticated(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationError)
    return error_response(exc.http_status, exc.to_dict(), exc.headers)


async def _no_database(request: Request, exc: Exception) -> JSONResponse:
    # PoolTimeout and TooManyRequests are OperationalErrors too.
    logger.warning("503 on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return unavailable("the service is overloaded or its database is unavailable")


async def _missing_object(request: Request, exc: Exception) -> JSONResponse:
    """503 if the database holds no RPC contract (not migrated); else a missing object is
    a bug, or a database tampered with: 500."""
    if await _holds_the_contract(request):
        raise exc  # to UnexpectedErrors: logged, 500
    logger.error("503 on %s %s: not migrated: %s", request.method, request.url.path, exc)
    return unavailable("the database is not migrated: run `pyproj-rpc db upgrade`")


async def _holds_the_contract(request: Request) -> bool:
    try:
        async with request.app.state.pool.connection() as conn, conn.transaction():
            row = await (await conn.execute(query("rest_health"))).fetchone()
    except psycopg.Error:
        return True  # cannot tell: report the original error as it is
    return bool(row and row[0])


async def _keys_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("503 on %s %s: JWKS unavailable: %s", request.method, request.url.path, exc)
    return unavailable("the signing keys cannot be fetched; tokens cannot be verified now")


async def _service_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return unavailable(str(exc))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == HTTPStatus.BAD_REQUEST:
        return _unreadable_body(exc)
    status = HTTPStatus(exc.status_code)
    code = status.phrase.lower().replace(" ", "_").replace("-", "_")
    return error_response(status, error_body(code, status.phrase), exc.headers)


def _unreadable_body(exc: HTTPException) -> JSONResponse:
    # FastAPI's 400 for a body it could not read, e.g. JSON that is not UTF-8.
    if isinstance(exc.__cause__, UnicodeDecodeError):
        problem = {"message": "not valid UTF-8", "type": "utf8_invalid"}
    else:
        problem = {"message": "could not be read", "type": "body_unreadable"}
    return _invalid_input([{"in": "body", "field": None} | problem])


def install(app: FastAPI) -> None:
    """Register the handlers, and the last resort for unexpected errors."""
    app.add_exception_handler(PauseManagementError, _refused)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(AuthenticationError, _unauthenticated)
    app.add_exception_handler(psycopg.OperationalError, _no_database)
    for missing in NOT_MIGRATED:
        app.add_exception_handler(missing, _missing_object)
    app.add_exception_handler(KeysUnavailable, _keys_unavailable)
    app.add_exception_handler(ServiceUnavailable, _service_unavailable)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(UnexpectedErrors)


class UnexpectedErrors:
    """500 with a generic body for any other exception; the details go to the log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = error_body(INTERNAL_ERROR, "internal server error", hint="retry, or report it")
            await error_response(HTTPStatus.INTERNAL_SERVER_ERROR, body)(scope, receive, send)


# -- the OpenAPI side: every error response of an operation ----------------------------

_AUTH_CODES = {
    UNVERIFIED_TOKEN: "the bearer token is malformed, wrongly signed or signed by an unknown key",
    INVALID_CLAIMS: "the token is expired, for another audience, or names another role or no user",
}


def _contract_codes(status: int) -> list[str]:
    return [
        f"`{cls.code}`: {(cls.__doc__ or '').strip().replace('``', '`')}"
        for cls in ERRORS_BY_CODE.values()
        if cls.http_status == status
    ]


def _descriptions() -> dict[int, str]:
    lines: dict[int, list[str]] = {
        400: [
            f"`{INVALID_INPUT}`, checked before the database: a body that is not UTF-8 or "
            "not JSON, a wrong type, an unknown field, a bad UUID or date, or text PostgreSQL "
            "cannot hold (a NUL or a lone surrogate, in the body or a claim of the token); "
            "or an argument the database refuses"
        ],
        401: [
            "`unauthenticated`: no token (anon may call nothing), or no signed-in user",
            *(f"`{code}`: {text}" for code, text in _AUTH_CODES.items()),
        ],
        500: [f"`{INTERNAL_ERROR}`: an unexpected error, logged by the service"],
        503: [
            f"`{SERVICE_UNAVAILABLE}`: every database connection is busy, or the database "
            "is unavailable; retry after `Retry-After` seconds"
        ],
    }
    for status in (403, 404, 409, 422):
        lines[status] = _contract_codes(status)
    return {status: "\n\n".join(text) for status, text in lines.items()}


_DESCRIPTIONS = _descriptions()
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The bearer challenge (RFC 6750).",
            "schema": {"type": "string"},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "string"},
        }
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these error statuses (500 is always added)."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 500}):
        response: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        documented[status] = response
    return documented
