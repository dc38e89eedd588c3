"""Local PostgreSQL clusters for tests, the demo, benchmarks and ``pyproj-rpc db local``."""

from pyproj_rpc.localdb.binaries import ServerBinaries, find_server_binaries
from pyproj_rpc.localdb.cluster import ClusterState, ConnectionInfo, LocalCluster

__all__ = [
    "ClusterState",
    "ConnectionInfo",
    "LocalCluster",
    "ServerBinaries",
    "find_server_binaries",
]
