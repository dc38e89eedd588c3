"""The ASGI app: /api/v1/pause-management over the RPC contract, and /healthz.

Each request runs one ``api`` function as its caller, through
:func:`pyproj_rpc.rpc.call_async`: one transaction with the caller's role and JWT claims
set locally, exactly as PostgREST does, so that RLS and the state machine stay the only
gate. Arguments are checked by :mod:`pyproj_rpc.calls` and results read by
:mod:`pyproj_rpc.models`, as for the Python client; this module adds no rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool
from starlette.requests import HTTPConnection

from pyproj_rpc import __version__, calls, statemachine
from pyproj_rpc.api_errors import from_database_error
from pyproj_rpc.client import AsyncPauseManagementClient
from pyproj_rpc.identity import Identity, Role, async_postgrest_request
from pyproj_rpc.queries import query
from pyproj_rpc.rest import errors, schemas
from pyproj_rpc.rest.auth import TokenVerifier
from pyproj_rpc.rest.docs import docs_router
from pyproj_rpc.rest.settings import CONNECTION_KWARGS, RestSettings

T = TypeVar("T")

PREFIX = "/api/v1/pause-management"
Pool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]

DESCRIPTION = """\
Pause management for peer mentors, over the database's RPC contract.

Every request runs the same `api` SQL function a Supabase client calls through PostgREST,
as the caller of its `Authorization: Bearer <Supabase JWT>` (none: `anon`, who may call
nothing): row-level security and the state machine decide everything. Errors have
PostgREST's body `{code, message, details, hint}` and status.
"""


class BearerToken(HTTPBearer):
    """The raw ``Authorization`` header; documented as the Supabase JWT bearer scheme."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, credentials = header.partition(" ")
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


bearer = BearerToken(
    scheme_name="supabaseJwt",
    bearerFormat="JWT",
    description="A Supabase access token, or the project's anon or service_role key.",
    auto_error=False,
)


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Identity:
    """The identity the request runs as (``anon`` without a token)."""
    verifier: TokenVerifier = request.app.state.verifier
    header = None if credentials is None else f"{credentials.scheme} {credentials.credentials}"
    return await verifier.identity(header)


def pool(request: Request) -> Pool:
    """The app's connection pool."""
    connections: Pool = request.app.state.pool
    return connections


Caller = Annotated[Identity, Depends(caller)]
Connections = Annotated[Pool, Depends(pool)]
MentorId = Annotated[
    schemas.UuidText, Path(alias="mentorId", description="The mentor (mentoring.mentors.id).")
]
IdempotencyKey = Annotated[
    schemas.UuidText | None,
    Header(
        alias="Idempotency-Key",
        description="A UUID: a repeat with the same key returns the first result; the same "
        "key with other arguments is refused (422).",
    ),
]

WRITE_ERRORS = errors.responses(400, 401, 403, 404, 409, 422, 503)
READ_ERRORS = errors.responses(400, 401, 404, 503)


async def run(connections: Pool, identity: Identity, call: calls.Call[T]) -> T:
    """Run an api function as ``identity`` on a pooled connection, read its result."""
    return await AsyncPauseManagementClient(connections, identity=identity).run(call)


router = APIRouter(prefix=PREFIX, tags=["pause-management"])


@router.post(
    "/{mentorId}/activate",
    operation_id="activatePause",
    summary="Pause an active mentor",
    response_model=schemas.TransitionResult,
    responses=WRITE_ERRORS,
)
async def activate_pause(
    mentor_id: MentorId,
    body: schemas.ActivatePauseBody,
    identity: Caller,
    connections: Connections,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """`api.activate_pause`: the mentor themselves, an assigned coordinator or an admin."""
    call = calls.activate_pause(
        mentor_id, body.reason, body.expected_return_date, body.force, idempotency_key
    )
    return schemas.TransitionResult.model_validate(await run(connections, identity, call))


OptionalReason = Annotated[schemas.ReasonBody | None, Body()]


@router.post(
    "/{mentorId}/lift",
    operation_id="liftPause",
    summary="Lift an active pause and restore the mentor",
    response_model=schemas.TransitionResult,
    responses=WRITE_ERRORS,
)
async def lift_pause(
    mentor_id: MentorId,
    identity: Caller,
    connections: Connections,
    body: OptionalReason = None,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """`api.lift_pause`: paused to active; needs a valid certification."""
    reason = body.reason if body else None
    call = calls.lift_pause(mentor_id, reason, idempotency_key)
    return schemas.TransitionResult.model_validate(await run(connections, identity, call))


@router.post(
    "/{mentorId}/reactivate",
    operation_id="reactivateMentor",
    summary="Make a paused or expired_cert mentor active again",
    response_model=schemas.TransitionResult,
    responses=WRITE_ERRORS,
)
async def reactivate_mentor(
    mentor_id: MentorId,
    identity: Caller,
    connections: Connections,
    body: OptionalReason = None,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """`api.reactivate_mentor`: coordinators and admins; needs a valid certification."""
    reason = body.reason if body else None
    call = calls.reactivate_mentor(mentor_id, reason, idempotency_key)
    return schemas.TransitionResult.model_validate(await run(connections, identity, call))


@router.post(
    "/{mentorId}/auto-expire",
    operation_id="autoExpireForCertification",
    summary="Expire a mentor whose certification lapsed",
    response_model=schemas.TransitionResult,
    responses=errors.responses(400, 401, 403, 404, 409, 503),
)
async def auto_expire_for_certification(
    mentor_id: MentorId, identity: Caller, connections: Connections
) -> Any:
    """`api.auto_expire_for_certification`: service role or admin; `changed: false` if
    already expired."""
    call = calls.auto_expire_for_certification(mentor_id)
    return schemas.TransitionResult.model_validate(await run(connections, identity, call))


@router.get(
    "/{mentorId}/status",
    operation_id="getCurrentStatus",
    summary="A mentor's status now, and what the caller may do",
    response_model=schemas.CurrentStatus,
    responses=READ_ERRORS,
)
async def get_current_status(
    mentor_id: MentorId, identity: Caller, connections: Connections
) -> Any:
    """`api.get_current_status`."""
    call = calls.get_current_status(mentor_id)
    return schemas.CurrentStatus.model_validate(await run(connections, identity, call))


@router.get(
    "/{mentorId}/history",
    operation_id="getPauseHistory",
    summary="A mentor's pauses and status events, newest first",
    response_model=schemas.PauseHistory,
    responses=READ_ERRORS,
)
async def get_pause_history(mentor_id: MentorId, identity: Caller, connections: Connections) -> Any:
    """`api.get_pause_history`."""
    call = calls.get_pause_history(mentor_id)
    return schemas.PauseHistory.model_validate(await run(connections, identity, call))


@router.get(
    "/paused",
    operation_id="getPausedMentors",
    summary="The paused mentors of a coordinator",
    response_model=list[schemas.PausedMentor],  # type: ignore[valid-type]
    responses=errors.responses(400, 401, 503),
)
async def get_paused_mentors(
    identity: Caller,
    connections: Connections,
    coordinator_id: Annotated[
        schemas.UuidText | None,
        Query(
            alias="coordinatorId",
            description="Default: the caller (for the service role: every coordinator).",
        ),
    ] = None,
) -> Any:
    """`api.get_paused_mentors`, among the mentors the caller may see."""
    call = calls.get_paused_mentors(coordinator_id)
    return [schemas.PausedMentor.model_validate(m) for m in await run(connections, identity, call)]


@router.get(
    "/transitions",
    operation_id="listTransitions",
    summary="The state machine: who may move a mentor from which status to which",
    response_model=list[schemas.TransitionRule],  # type: ignore[valid-type]
    responses=errors.responses(401, 503),
)
async def list_transitions(identity: Caller, connections: Connections) -> Any:
    """`mentoring.transitions`, read as the caller (every signed-in caller may)."""
    async with (
        connections.connection() as conn,
        async_postgrest_request(conn, identity, method="GET", path="/transitions") as cur,
    ):
        try:
            rows = await (await cur.execute(query("transition_rules"))).fetchall()
        except psycopg.Error as exc:
            error = from_database_error(exc, anonymous=identity.role is Role.ANON)
            if error is None:
                raise
            raise error from exc
    return [schemas.TransitionRule.model_validate(statemachine.Rule(**row)) for row in rows]


health_router = APIRouter(tags=["health"])


@health_router.get(
    "/healthz",
    operation_id="health",
    summary="The service answers and its database holds the RPC contract",
    response_model=schemas.Health,
    responses=errors.responses(503),
)
async def health(connections: Connections) -> Any:
    """200 when a pooled connection runs a query and the `api` schema is migrated."""
    async with connections.connection() as conn, conn.transaction():
        row = await (await conn.execute(query("rest_health"))).fetchone()
    if row is None or not row[0]:
        raise errors.ServiceUnavailable("the database has no RPC contract: migrate it")
    return schemas.Health(status="ok")


class RestApp(FastAPI):
    """FastAPI, with an OpenAPI document that shows our 400 instead of FastAPI's 422."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document, built once."""
        if self.openapi_schema is None:
            document = super().openapi()
            _drop_default_validation_responses(document)
            _optional_parameters_are_absent_not_null(document)
        return self.openapi_schema or {}


def _optional_parameters_are_absent_not_null(document: dict[str, Any]) -> None:
    # A header or query parameter is a string or absent: never JSON null.
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                variants = [v for v in schema.get("anyOf", []) if v != {"type": "null"}]
                if not parameter.get("required") and len(variants) == 1:
                    del schema["anyOf"]
                    schema.update(variants[0])


def _drop_default_validation_responses(document: dict[str, Any]) -> None:
    default = "#/components/schemas/HTTPValidationError"
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422", {})
            if default in str(response.get("content", {})):
                del operation["responses"]["422"]
    component_schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        component_schemas.pop(name, None)


def create_pool(settings: RestSettings) -> Pool:
    """A bounded pool: ``pool_size`` connections, a short wait, and no prepared statements."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=1,
        max_size=settings.pool_size,
        timeout=settings.pool_timeout,
        max_waiting=settings.pool_max_waiting,
        kwargs=dict(CONNECTION_KWARGS),
        open=False,
        name="pyproj-rpc-rest",
    )


def create_app(settings: RestSettings) -> FastAPI:
    """The REST adapter for these settings; the pool opens and closes with the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connections = create_pool(settings)
        await connections.open(wait=False)
        app.state.pool = connections
        try:
            yield
        finally:
            await connections.close()

    app = RestApp(
        title="pyproj-rpc pause management",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by docs_router, offline
        redoc_url=None,
    )
    app.state.verifier = TokenVerifier(settings.jwt)
    errors.install(app)
    app.include_router(router)
    app.include_router(health_router)
    app.include_router(docs_router)
    return app
