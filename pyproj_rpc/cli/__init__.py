"""The ``pyproj-rpc`` command line."""

from pyproj_rpc.cli import bench, db
from pyproj_rpc.cli.app import main

main.add_command(db.db)
main.add_command(bench.bench)

__all__ = ["main"]
