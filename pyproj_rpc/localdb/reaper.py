"""Watchdog for a throwaway cluster: stops it once its owner's pipe closes.

The owner keeps our stdin open for as long as it lives. End of file means the owner
stopped the cluster itself, or died (SIGKILL, a crash) without doing so: either way we
make sure no server process or data directory is left behind.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from pyproj_rpc.localdb.cluster import ClusterState, stop_cluster


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    state = ClusterState.from_json(Path(sys.stdin.readline().strip()).read_text())
    while sys.stdin.buffer.read(4096):
        pass
    stop_cluster(state)


if __name__ == "__main__":
    main()
