"""The ``pyproj-rpc`` command line."""

from pyproj_rpc.cli import bench, db, demo, mentor, outbox, relay, rest, roster, scheduler, token
from pyproj_rpc.cli.app import main

main.add_command(db.db)
main.add_command(mentor.mentor)
main.add_command(mentor.transitions)
main.add_command(bench.bench)
main.add_command(demo.demo)
main.add_command(rest.api)
main.add_command(scheduler.expire_certifications)
main.add_command(scheduler.remind_overdue)
main.add_command(scheduler.schedule)
main.add_command(relay.relay)
main.add_command(outbox.outbox)
main.add_command(roster.roster)
main.add_command(token.token)

__all__ = ["main"]
