"""A throwaway (or persistent) local PostgreSQL cluster.

Used by the test suite, the demo, the benchmarks and ``pyproj-rpc db local``.
The server listens on 127.0.0.1 on a free port (password auth) and on a Unix socket in
a private directory (trust, reachable only by the caller and the server user).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import quote

from pyproj_rpc.errors import LocalClusterError
from pyproj_rpc.localdb.binaries import ServerBinaries, find_server_binaries
from pyproj_rpc.localdb.osuser import ServerUser, reachable_install, server_user

SUPERUSER = "postgres"
INCLUDE_FILE = "pyproj_rpc.conf"
PORT_FILE = "pyproj_rpc.port"  # a persistent cluster's port, kept across restarts
PASSWORD_FILE = "pyproj_rpc.password"  # noqa: S105 (a file name)
START_ATTEMPTS = 4

# Safe only for data we can lose: tests, the demo, benchmarks.
THROWAWAY_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
# pg_cron runs its jobs from one database: the local cluster's own, postgres.
PG_CRON_SETTINGS: Mapping[str, str] = {
    "shared_preload_libraries": "pg_cron",
    "cron.database_name": "postgres",
}


@dataclass(frozen=True)
class ConnectionInfo:
    """How to reach a running local cluster."""

    socket_dir: str
    port: int
    password: str
    user: str = SUPERUSER
    dbname: str = "postgres"

    def url(self, dbname: str | None = None) -> str:
        """A TCP URL with the password, usable by any client (psql, PgBouncer, PostgREST)."""
        return (
            f"postgresql://{self.user}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{dbname or self.dbname}"
        )

    def socket_url(self, dbname: str | None = None) -> str:
        """A Unix-socket URL (no password needed): the fastest path for tests."""
        return (
            f"postgresql://{self.user}@/{dbname or self.dbname}"
            f"?host={quote(self.socket_dir, safe='')}&port={self.port}"
        )


@dataclass
class ClusterState:
    """What is needed to find, reach and stop a cluster from another process."""

    bindir: str
    data_dir: str
    base_dir: str
    persistent: bool
    port: int
    password: str
    os_user: str
    pid: int | None = None
    settings: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        return cls(**json.loads(text))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalCluster:
    """Create, start and stop a local PostgreSQL cluster.

    ``data_dir=None`` makes a throwaway cluster in a private temp dir, removed at
    :meth:`stop`. With ``reaper=True`` a small watchdog process removes it too if this
    process dies without stopping it (SIGKILL, a crashed test run).
    A given ``data_dir`` is persistent: created on first use, kept at :meth:`stop`.
    """

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        binaries: ServerBinaries | None = None,
        settings: Mapping[str, str] | None = None,
        reaper: bool = True,
        port: int | None = None,
    ) -> None:
        self.binaries = binaries or find_server_binaries()
        self.user: ServerUser = server_user()
        self.persistent = data_dir is not None
        self.requested_data_dir = data_dir
        self.settings = dict(settings or ({} if self.persistent else THROWAWAY_SETTINGS))
        self.use_reaper = reaper
        self.requested_port = port
        self.state: ClusterState | None = None
        self._reaper: subprocess.Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> ConnectionInfo:
        """Initialize the data directory if needed and start the server."""
        if self.state is not None:
            raise LocalClusterError("this cluster is already started")
        bindir = reachable_install(self.binaries.bindir, self.user)
        base_dir = Path(tempfile.mkdtemp(prefix="pyproj-rpc-pg-"))
        data_dir = self.requested_data_dir or base_dir / "data"
        try:
            (base_dir / "socket").mkdir()
            self.user.own(base_dir)
            password = self._ensure_initialized(bindir, data_dir, base_dir)
            self.state = ClusterState(
                bindir=str(bindir),
                data_dir=str(data_dir),
                base_dir=str(base_dir),
                persistent=self.persistent,
                port=0,
                password=password,
                os_user=self.user.name,
                settings=self.settings,
            )
            if self.use_reaper:
                self._reaper = start_reaper(self.state)
            self._start_server()
        except BaseException:
            self._cleanup_after_failed_start(base_dir, data_dir)
            raise
        return self.info

    def stop(self) -> None:
        """Stop the server and remove everything this cluster created (not a persistent dir)."""
        if self.state is None:
            return
        stop_cluster(self.state)
        self.state = None
        self._release_reaper()

    def restart(self, *, crash: bool = False) -> None:
        """Restart the server in place (``pg_ctl restart``, fast mode; with ``crash``,
        immediate mode: no checkpoint, WAL not yet flushed is lost, recovery at start, as
        after a power cut).

        Same data, same port and socket (they live in the cluster's include file); every
        client connection is cut, as when a production server restarts.
        """
        state = self._require_state()
        result = self._run(
            str(Path(state.bindir) / "pg_ctl"),
            "--pgdata",
            state.data_dir,
            "--log",
            str(Path(state.base_dir) / "server.log"),
            "--mode",
            "immediate" if crash else "fast",
            "--wait",
            "--timeout",
            "60",
            "--silent",
            "restart",
            timeout=90,
        )
        if result.returncode != 0:
            log = tail(Path(state.base_dir) / "server.log")
            raise LocalClusterError(f"PostgreSQL did not restart:\n{log or result.stderr}")
        state.pid = read_postmaster_pid(Path(state.data_dir))

    @property
    def info(self) -> ConnectionInfo:
        state = self._require_state()
        return ConnectionInfo(
            socket_dir=str(Path(state.base_dir) / "socket"),
            port=state.port,
            password=state.password,
        )

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @classmethod
    def attach(cls, state: ClusterState) -> LocalCluster:
        """A handle on a cluster started by another process (``pyproj-rpc db local``)."""
        cluster = cls(
            data_dir=Path(state.data_dir) if state.persistent else None,
            binaries=ServerBinaries(Path(state.bindir), "state"),
            settings=state.settings,
            reaper=False,
        )
        cluster.state = state
        return cluster

    # -- internals -----------------------------------------------------------------

    def _require_state(self) -> ClusterState:
        if self.state is None:
            raise LocalClusterError("this cluster is not started")
        return self.state

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_as_server_user(self.user, list(args), timeout=timeout)

    def _ensure_initialized(self, bindir: Path, data_dir: Path, base_dir: Path) -> str:
        if not self.user.can_reach(data_dir):
            raise LocalClusterError(
                f"the server runs as {self.user.name!r}, who cannot reach {data_dir}: "
                "choose a data directory outside private homes (e.g. under /var/tmp)"
            )
        password_file = data_dir / PASSWORD_FILE
        if (data_dir / "PG_VERSION").exists():
            try:
                return password_file.read_text().strip()
            except OSError as exc:
                raise LocalClusterError(
                    f"{data_dir} was not created by pyproj-rpc (no {PASSWORD_FILE})"
                ) from exc
        if data_dir.exists() and any(data_dir.iterdir()):
            raise LocalClusterError(f"{data_dir} exists, is not empty and is not a cluster")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.user.own(data_dir)
        password = secrets.token_urlsafe(24)
        pwfile = base_dir / "initdb.pwfile"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        self.user.own(pwfile)
        try:
            result = self._run(
                str(bindir / "initdb"),
                "--pgdata",
                str(data_dir),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local",
                "trust",
                "--auth-host",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
                "--no-instructions",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise LocalClusterError(f"initdb failed:\n{result.stdout}{result.stderr}")
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\ninclude_if_exists = '{INCLUDE_FILE}'\n")
        password_file.write_text(password + "\n")
        os.chmod(password_file, 0o600)
        self.user.own(data_dir)
        return password

    def _write_runtime_conf(self, port: int) -> None:
        state = self._require_state()
        lines = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(Path(state.base_dir) / "socket"),
            "unix_socket_permissions": "0700",
            "max_connections": "200",
            **state.settings,
        }
        conf = Path(state.data_dir) / INCLUDE_FILE
        conf.write_text(
            "# written by pyproj-rpc at each start\n"
            + "".join(f"{name} = '{value}'\n" for name, value in lines.items())
        )
        self.user.own(conf)

    def _ports_to_try(self) -> tuple[list[int], str | None]:
        """An explicit port, else a persistent cluster's port of last time (clients keep
        their URL across restarts), else free ports; with the reason when fixed."""
        if self.requested_port is not None:
            return [self.requested_port], "the port asked for"
        remembered = self._remembered_port()
        if remembered is not None:
            return [remembered], "this data directory's port of last time (choose another)"
        return [free_port() for _ in range(START_ATTEMPTS)], None

    def _remembered_port(self) -> int | None:
        if not self.persistent or self.requested_data_dir is None:
            return None
        try:
            return int((self.requested_data_dir / PORT_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    def _remember_port(self, port: int) -> None:
        if self.persistent and self.requested_data_dir is not None:
            path = self.requested_data_dir / PORT_FILE
            path.write_text(f"{port}\n")
            self.user.own(path)

    def _start_server(self) -> None:
        state = self._require_state()
        log = Path(state.base_dir) / "server.log"
        last_error = ""
        ports, fixed = self._ports_to_try()
        for port in ports:
            self._write_runtime_conf(port)
            result = run_as_server_user(
                self.user,
                [
                    str(Path(state.bindir) / "pg_ctl"),
                    "--pgdata",
                    state.data_dir,
                    "--log",
                    str(log),
                    "--wait",
                    "--timeout",
                    "60",
                    "--silent",
                    "start",
                ],
                timeout=90,
            )
            if result.returncode == 0:
                state.port = port
                state.pid = read_postmaster_pid(Path(state.data_dir))
                self._remember_port(port)
                return
            last_error = tail(log) or result.stderr
            if "could not bind" not in last_error and "in use" not in last_error:
                break
            if fixed:
                raise LocalClusterError(
                    f"port {port} is in use: it is {fixed}; free it, or pass --port"
                )
        raise LocalClusterError(f"PostgreSQL did not start:\n{last_error}")

    def _cleanup_after_failed_start(self, base_dir: Path, data_dir: Path) -> None:
        if self.state is not None:
            with contextlib.suppress(Exception):
                stop_cluster(self.state)
            self.state = None
        else:
            shutil.rmtree(base_dir, ignore_errors=True)
            if not self.persistent:
                shutil.rmtree(data_dir, ignore_errors=True)
        self._release_reaper()

    def _release_reaper(self) -> None:
        if self._reaper is None:
            return
        if self._reaper.stdin is not None:
            self._reaper.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._reaper.wait(timeout=30)
        self._reaper = None


def run_as_server_user(
    user: ServerUser, args: list[str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a server program as ``user``, in its own session so that Ctrl-C does not reach it."""
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
        cwd="/",
        check=False,
        **user.popen_kwargs(),
    )


def read_postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def process_alive(pid: int | None) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat_line.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def is_running(state: ClusterState) -> bool:
    """True when the cluster's postmaster is alive."""
    pid = read_postmaster_pid(Path(state.data_dir))
    return pid is not None and process_alive(pid)


def stop_cluster(state: ClusterState) -> None:
    """Stop a cluster and remove its private directories; never leaves a process behind."""
    user = server_user_named(state.os_user)
    data_dir = Path(state.data_dir)
    pg_ctl = str(Path(state.bindir) / "pg_ctl")
    pid = read_postmaster_pid(data_dir)
    if pid is not None and process_alive(pid):
        for mode in ("fast", "immediate"):
            run_as_server_user(
                user,
                [pg_ctl, "--pgdata", str(data_dir), "--mode", mode, "--wait", "--silent", "stop"],
                timeout=60,
            )
            if wait_for_exit(pid, timeout=10):
                break
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_for_exit(pid, timeout=10)
    shutil.rmtree(state.base_dir, ignore_errors=True)
    if not state.persistent:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        (data_dir / INCLUDE_FILE).unlink(missing_ok=True)


def server_user_named(name: str) -> ServerUser:
    entry = pwd.getpwnam(name)
    return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir or "/")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_reaper(state: ClusterState) -> subprocess.Popen[bytes]:
    """Start the watchdog that stops ``state``'s cluster when our stdin pipe closes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyproj_rpc.localdb.reaper"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    stdin: IO[bytes] | None = proc.stdin
    assert stdin is not None
    # The reaper reads the state file path; the state itself can change (port) later.
    state_path = Path(state.base_dir) / "state.json"
    state_path.write_text(state.to_json())
    stdin.write(str(state_path).encode() + b"\n")
    stdin.flush()
    return proc


def describe(state: ClusterState) -> dict[str, Any]:
    """A summary for humans and ``--json``."""
    return {
        "running": is_running(state),
        "pid": read_postmaster_pid(Path(state.data_dir)),
        "port": state.port,
        "data_dir": state.data_dir,
        "persistent": state.persistent,
        "os_user": state.os_user,
        "bindir": state.bindir,
    }
