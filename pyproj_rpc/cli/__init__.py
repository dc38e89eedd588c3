"""The ``pyproj-rpc`` command line."""

from pyproj_rpc.cli import bench, db, demo, mentor
from pyproj_rpc.cli.app import main

main.add_command(db.db)
main.add_command(mentor.mentor)
main.add_command(mentor.transitions)
main.add_command(bench.bench)
main.add_command(demo.demo)

__all__ = ["main"]
