"""Which database to talk to."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb.registry import running_local_cluster

DATABASE_URL_ENV = "DATABASE_URL"


def resolve_database_url(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The URL to use: an explicit one, else ``DATABASE_URL``, else the running local cluster."""
    if explicit:
        return explicit
    env = os.environ if env is None else env
    if env.get(DATABASE_URL_ENV):
        return env[DATABASE_URL_ENV]
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
