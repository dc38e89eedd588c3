"""The cluster that ``pyproj-rpc db local start`` left running, remembered on disk."""

from __future__ import annotations

import os
from pathlib import Path

from pyproj_rpc.localdb.cluster import ClusterState, LocalCluster, is_running

HOME_ENV = "PYPROJ_RPC_HOME"


def state_dir() -> Path:
    """``$PYPROJ_RPC_HOME``, else ``$XDG_STATE_HOME/pyproj-rpc``, else ~/.local/state/pyproj-rpc."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "pyproj-rpc"


def state_file() -> Path:
    return state_dir() / "local-cluster.json"


def remember(cluster: LocalCluster) -> None:
    """Record a started cluster so that later commands can find and stop it."""
    if cluster.state is None:
        raise ValueError("only a started cluster can be remembered")
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cluster.state.to_json())
    os.chmod(path, 0o600)


def remembered() -> ClusterState | None:
    """The recorded cluster, running or not."""
    try:
        return ClusterState.from_json(state_file().read_text())
    except FileNotFoundError:
        return None


def forget() -> None:
    state_file().unlink(missing_ok=True)


def running_local_cluster() -> LocalCluster | None:
    """A handle on the recorded cluster, when it is running."""
    state = remembered()
    if state is None or not is_running(state):
        return None
    return LocalCluster.attach(state)
