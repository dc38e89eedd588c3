"""Which database to talk to."""

from __future__ import annotations

import os
from collections.abc import Mapping

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb.registry import running_local_cluster
from pyproj_rpc.text import first_line

DATABASE_URL_ENV = "DATABASE_URL"


def resolve_database_url(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The URL to use: an explicit one, else ``DATABASE_URL``, else the running local cluster."""
    if explicit:
        return check_database_url(explicit)
    env = os.environ if env is None else env
    if env.get(DATABASE_URL_ENV):
        return check_database_url(env[DATABASE_URL_ENV])
    local = running_local_cluster()
    if local is not None:
        return local.info.url()
    raise ConfigurationError(
        "no database: set DATABASE_URL, pass --database-url, "
        "or start the local cluster with `pyproj-rpc db local start`"
    )


def sqlalchemy_url(url: str) -> str:
    """The same URL with SQLAlchemy's psycopg 3 driver named."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def check_database_url(url: str) -> str:
    """``url`` if libpq can read it: a malformed URL is a configuration mistake, not a
    database that cannot be reached."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(f"malformed database URL: {first_line(exc)}") from None
    port = str(params.get("port") or "5432")
    if not all(part.isdigit() for part in port.split(",")):
        raise ConfigurationError(f"malformed database URL: the port {port!r} is not a number")
    return url
