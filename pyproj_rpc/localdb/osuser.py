"""Who runs the local server.

``initdb`` and ``postgres`` refuse to run as root. When the caller is root we run them
as an unprivileged account: ``PYPROJ_PG_OS_USER`` if set, else ``postgres`` if it
exists, else ``nobody``. Otherwise they run as the caller.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj_rpc.errors import ConfigurationError

OS_USER_ENV = "PYPROJ_PG_OS_USER"
FALLBACK_USERS = ("postgres", "nobody")


@dataclass(frozen=True)
class ServerUser:
    """The OS account the server runs as."""

    name: str
    uid: int
    gid: int
    home: str

    @property
    def is_caller(self) -> bool:
        return self.uid == os.geteuid()

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``subprocess`` that run a program as this user."""
        if self.is_caller:
            return {}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "USER": self.name,
            "LOGNAME": self.name,
            "LC_ALL": "C.UTF-8",
        }
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "env": env}

    def own(self, path: Path) -> None:
        """Give ``path`` (recursively) to this user, when we run as someone else."""
        if self.is_caller:
            return
        os.chown(path, self.uid, self.gid, follow_symlinks=False)
        for root, dirs, files in os.walk(path):
            os.chown(root, self.uid, self.gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), self.uid, self.gid, follow_symlinks=False)

    def can_execute(self, program: Path) -> bool:
        """True when this user can reach and run ``program`` (every parent traversable)."""
        if self.is_caller:
            return os.access(program, os.X_OK)
        path = program.resolve()
        return all(self._has_exec_bit(p) for p in [path, *path.parents])

    def can_reach(self, directory: Path) -> bool:
        """True when this user can traverse every parent of ``directory``."""
        if self.is_caller:
            return True
        return all(self._has_exec_bit(p) for p in directory.resolve().parents)

    def _has_exec_bit(self, path: Path) -> bool:
        st = path.stat()
        if st.st_uid == self.uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid == self.gid:
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)


def server_user(env: Mapping[str, str] | None = None) -> ServerUser:
    """The account to run the server as, for the current caller."""
    env = os.environ if env is None else env
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)
    wanted = env.get(OS_USER_ENV)
    for name in [wanted] if wanted else FALLBACK_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid == 0:
            raise ConfigurationError(f"{OS_USER_ENV}={name} is root; PostgreSQL refuses root")
        return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir or "/")
    raise ConfigurationError(
        f"running as root and no unprivileged account found ({wanted or FALLBACK_USERS}); "
        f"create one or set {OS_USER_ENV}"
    )


def reachable_install(bindir: Path, user: ServerUser) -> Path:
    """A bin directory ``user`` can run.

    A server installed under a private home (a venv in /root, say) is copied once
    into a shared, root-owned cache that the server user can read.
    """
    if all(user.can_execute(bindir / tool) for tool in ("initdb", "pg_ctl", "postgres")):
        return bindir
    install_root = bindir.resolve().parent
    digest = hashlib.sha256(str(install_root).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"pyproj-rpc-pginstall-{digest}"
    if not (cache / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="pyproj-rpc-pginstall-"))
        shutil.copytree(install_root, staging / "install", symlinks=True)
        os.chmod(staging, 0o755)  # noqa: S103 (the server user must read the copy)
        try:
            os.rename(staging / "install", cache)
        except OSError:
            if not cache.exists():
                raise
        shutil.rmtree(staging, ignore_errors=True)
    return cache / "bin"
