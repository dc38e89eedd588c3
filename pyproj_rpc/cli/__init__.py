"""The ``pyproj-rpc`` command line."""

from pyproj_rpc.cli import db
from pyproj_rpc.cli.app import main

main.add_command(db.db)

__all__ = ["main"]
