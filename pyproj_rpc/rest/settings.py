"""The REST adapter's settings: its database, its pool and how tokens are verified."""

from __future__ import annotations

from dataclasses import dataclass

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.rest.auth import JwtConfig

DEFAULT_POOL_SIZE = 10
DEFAULT_POOL_TIMEOUT = 2.0
WAITING_PER_CONNECTION = 4  # beyond pool_size * this many waiting requests: 503 at once

# psycopg would switch a query to a server-side prepared statement after 5 runs; PgBouncer
# in transaction mode (and Supabase's pooler) may then run it on another server connection.
CONNECTION_KWARGS = {"prepare_threshold": None, "autocommit": False}


@dataclass(frozen=True)
class RestSettings:
    """Where the database is, how many connections to use, and how to verify tokens."""

    database_url: str
    jwt: JwtConfig
    pool_size: int = DEFAULT_POOL_SIZE
    pool_timeout: float = DEFAULT_POOL_TIMEOUT

    def __post_init__(self) -> None:
        if self.pool_size < 1:
            raise ConfigurationError("the pool size must be at least 1")
        if not self.pool_timeout > 0:
            raise ConfigurationError("the pool timeout must be a positive number of seconds")

    @property
    def pool_max_waiting(self) -> int:
        """How many requests may wait for a connection; the next one gets 503 at once."""
        return self.pool_size * WAITING_PER_CONNECTION
