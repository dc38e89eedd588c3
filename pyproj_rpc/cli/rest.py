"""``pyproj-rpc api``: serve the REST API over the RPC contract."""

from __future__ import annotations

import socket

import click
import uvicorn

from pyproj_rpc.cli.app import database_url_option
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.rest import JwtConfig, RestSettings, create_app
from pyproj_rpc.rest.settings import DEFAULT_POOL_SIZE, DEFAULT_POOL_TIMEOUT
from pyproj_rpc.settings import resolve_database_url

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port."
)
@database_url_option
@click.option(
    "--jwt-secret",
    envvar=["PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET"],
    help="The project's JWT secret, for HS256 tokens. "
    "Default: $PYPROJ_JWT_SECRET, else $SUPABASE_JWT_SECRET.",
)
@click.option(
    "--jwks",
    envvar="PYPROJ_JWKS",
    metavar="PATH_OR_URL",
    help="A JWKS file or URL, for asymmetric tokens (RS256, ES256, ...). Default: $PYPROJ_JWKS.",
)
@click.option(
    "--jwt-audience",
    envvar="PYPROJ_JWT_AUDIENCE",
    default="authenticated",
    show_default=True,
    help="The aud a token must name, when it names one.",
)
@click.option(
    "--pool-size",
    type=click.IntRange(min=1),
    default=DEFAULT_POOL_SIZE,
    show_default=True,
    help="Most database connections at once.",
)
@click.option(
    "--pool-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_POOL_TIMEOUT,
    show_default=True,
    help="Seconds a request waits for a connection before a 503.",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS),
    default="info",
    show_default=True,
    help="Least severe server log records written to stderr.",
)
def api(
    *,
    host: str,
    port: int,
    database_url: str | None,
    jwt_secret: str | None,
    jwks: str | None,
    jwt_audience: str,
    pool_size: int,
    pool_timeout: float,
    log_level: str,
) -> None:
    """Serve /api/v1/pause-management, /healthz and /openapi.json over HTTP.

    Every request runs the RPC contract as the caller of its Supabase JWT, as PostgREST
    does. Stop with Ctrl-C.
    """
    settings = RestSettings(
        database_url=resolve_database_url(database_url),
        jwt=JwtConfig(secret=jwt_secret or None, jwks=jwks or None, audience=jwt_audience),
        pool_size=pool_size,
        pool_timeout=pool_timeout,
    )
    check_can_listen(host, port)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


def check_can_listen(host: str, port: int) -> None:
    """A port already taken (or an address not ours) is a configuration mistake: say so
    before starting, with the configuration exit code."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}") from None
