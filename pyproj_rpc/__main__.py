"""``python -m pyproj_rpc`` is ``pyproj-rpc``."""

from pyproj_rpc.cli import main

main()
