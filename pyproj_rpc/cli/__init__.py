"""The ``pyproj-rpc`` command line.

Each command's module is imported when that command runs (``--version`` and ``--help``
import none of them): FastAPI, Alembic and the benchmarks load only where they are used.
"""

from pyproj_rpc.cli.app import main

main.lazy_commands.update(
    {
        "db": "pyproj_rpc.cli.db:db",
        "mentor": "pyproj_rpc.cli.mentor:mentor",
        "transitions": "pyproj_rpc.cli.mentor:transitions",
        "bench": "pyproj_rpc.cli.bench:bench",
        "demo": "pyproj_rpc.cli.demo:demo",
        "api": "pyproj_rpc.cli.rest:api",
        "expire-certifications": "pyproj_rpc.cli.scheduler:expire_certifications",
        "remind-overdue": "pyproj_rpc.cli.scheduler:remind_overdue",
        "schedule": "pyproj_rpc.cli.scheduler:schedule",
        "relay": "pyproj_rpc.cli.relay:relay",
        "outbox": "pyproj_rpc.cli.outbox:outbox",
        "audit": "pyproj_rpc.cli.audit:audit",
        "roster": "pyproj_rpc.cli.roster:roster",
        "token": "pyproj_rpc.cli.token:token",
        "contract": "pyproj_rpc.cli.contract:contract",
    }
)

__all__ = ["main"]
