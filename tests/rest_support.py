"""Helpers for the REST adapter's tests: tokens, a uvicorn server, a PgBouncer, databases.

- :func:`mint` / :func:`token_for` sign test tokens (HS256 with :data:`SECRET` by default);
- :class:`RestServer` runs the app with uvicorn on a loopback port, in a thread;
- :class:`PgBouncer` runs Debian's pgbouncer in transaction pooling mode, as the
  unprivileged user that runs the test server (pgbouncer refuses to run as root);
- :func:`clone_database` gives a module its own committed copy of the template.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import jwt
import psycopg
import uvicorn
from fastapi import FastAPI
from pydantic.alias_generators import to_camel, to_snake

from pyproj_rpc.identity import Identity, Role
from pyproj_rpc.localdb import ConnectionInfo
from pyproj_rpc.localdb.cluster import free_port
from pyproj_rpc.localdb.osuser import server_user
from pyproj_rpc.rest import JwtConfig, RestSettings, create_app
from tests.conftest import Database, janitor

SECRET = "test-only-jwt-secret-of-at-least-32-characters"
PREFIX = "/api/v1/pause-management"
STARTUP_TIMEOUT = 30.0
_database_numbers = itertools.count()


# -- tokens ----------------------------------------------------------------------------


def mint(
    claims: Mapping[str, Any],
    *,
    key: Any = SECRET,
    algorithm: str = "HS256",
    kid: str | None = None,
    expires_in: int | None = 3600,
) -> str:
    """A signed JWT with these claims, and ``iat``/``exp`` unless ``expires_in`` is None."""
    payload = dict(claims)
    now = int(time.time())
    if expires_in is not None:
        payload.setdefault("iat", now)
        payload.setdefault("exp", now + expires_in)
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def token_for(identity: Identity, **kwargs: Any) -> str:
    """The token Supabase would issue for this identity (its API key for service/anon)."""
    return mint(identity.claims(), **kwargs)


def auth_headers(identity: Identity) -> dict[str, str]:
    """The headers a client of this identity sends: none for anon."""
    if identity.role is Role.ANON:
        return {}
    return {"Authorization": f"Bearer {token_for(identity)}"}


# -- the app in a real HTTP server -------------------------------------------------------


def rest_settings(database_url: str, **overrides: Any) -> RestSettings:
    """Settings for a test app: our test secret, a small pool, a short pool timeout."""
    jwt_config = overrides.pop("jwt", JwtConfig(secret=SECRET))
    values: dict[str, Any] = {"pool_size": 4, "pool_timeout": 5.0} | overrides
    return RestSettings(database_url=database_url, jwt=jwt_config, **values)


class RestServer:
    """uvicorn serving an app on 127.0.0.1, in a thread; a context manager."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        # readiness: uvicorn sets `started` once the lifespan ran and it accepts requests
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()
        assert not self._thread.is_alive(), "uvicorn did not stop"


@contextmanager
def serve(database_url: str, **overrides: Any) -> Iterator[RestServer]:
    """The REST app on this database, served over HTTP for the block."""
    with RestServer(create_app(rest_settings(database_url, **overrides))) as server:
        yield server


# -- databases ---------------------------------------------------------------------------


@contextmanager
def clone_database(template: Database, label: str) -> Iterator[Database]:
    """A committed copy of the template for a whole test module, dropped at the end."""
    name = f"pyproj_rest_{label}_{next(_database_numbers)}"
    clone = janitor(template.server, name, template_dbname=template.name)
    clone.init()
    try:
        yield Database(template.server, name)
    finally:
        clone.drop()


# -- PgBouncer ---------------------------------------------------------------------------

PGBOUNCER_CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def pgbouncer_binary() -> str:
    """Debian's pgbouncer (installed by .ci/run)."""
    found = shutil.which("pgbouncer") or next(
        (path for path in PGBOUNCER_CANDIDATES if os.access(path, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
    return found


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of one database of the test server.

    It reaches the server through its Unix socket, as the server's own OS user; clients
    reach it on 127.0.0.1 (no password). ``server_round_robin`` spreads transactions over
    the server connections, so that session state cannot survive by luck.
    """

    def __init__(self, server: ConnectionInfo, dbname: str, *, server_connections: int = 2):
        self.server = server
        self.dbname = dbname
        self.server_connections = server_connections
        self.user = server_user()
        self.port = 0
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """A URL through PgBouncer."""
        return f"postgresql://{self.server.user}@127.0.0.1:{self.port}/{self.dbname}"

    def _write_config(self, directory: Path) -> Path:
        (directory / "userlist.txt").write_text(f'"{self.server.user}" ""\n')
        config = directory / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"{self.dbname} = host={self.server.socket_dir} port={self.server.port} "
            f"dbname={self.dbname} user={self.server.user}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {directory / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.server_connections}\n"
            f"min_pool_size = {self.server_connections}\n"
            "server_round_robin = 1\n"
            "max_client_conn = 100\n"
            "ignore_startup_parameters = extra_float_digits\n"
            "log_connections = 0\n"
            "log_disconnections = 0\n"
            f"logfile = {directory / 'pgbouncer.log'}\n"
        )
        return config

    def __enter__(self) -> Self:
        self._dir = Path(tempfile.mkdtemp(prefix="pyproj-rpc-pgbouncer-"))
        os.chmod(self._dir, 0o755)  # noqa: S103 (the server user reads its config here)
        self.port = free_port()
        config = self._write_config(self._dir)
        self.user.own(self._dir)
        self._process = subprocess.Popen(
            [pgbouncer_binary(), str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # it logs to its logfile: see log()
            start_new_session=True,
            cwd="/",
            **self.user.popen_kwargs(),
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        assert self._process is not None
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited:\n{self.log()}")
            try:
                with psycopg.connect(self.url, connect_timeout=2, prepare_threshold=None):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def log(self) -> str:
        """PgBouncer's log so far."""
        if self._dir is None:
            return ""
        with contextlib.suppress(OSError):
            return (self._dir / "pgbouncer.log").read_text()
        return ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


# -- comparing REST and RPC results -----------------------------------------------------


def camel_keys(value: Any) -> Any:
    """The RPC's JSON with every object key in camelCase, as the REST API spells it."""
    if isinstance(value, dict):
        return {to_camel(key): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


def snake_keys(value: Any) -> Any:
    """The REST API's JSON with every object key in snake_case, as the RPC spells it."""
    if isinstance(value, dict):
        return {to_snake(key): snake_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_keys(item) for item in value]
    return value


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every object key of a JSON document, as paths (``a.b``, ``a[].c``)."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | key_paths(item, path)
        return paths
    if isinstance(value, list):
        return set().union(*(key_paths(item, f"{prefix}[]") for item in value))
    return set()
