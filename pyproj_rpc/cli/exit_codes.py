"""Exit codes of ``pyproj-rpc``: scripts can tell failures apart without parsing text."""

OK = 0
FAILURE = 1  # the command ran and failed (a migration error, a server that would not start)
USAGE = 2  # bad arguments or configuration (click uses 2 for usage errors too)
REFUSED = 3  # the database refused the request (a rule of the state machine, say)
UNAVAILABLE = 4  # the database could not be reached
BROKEN = 5  # audit verify: the audit trail does not hold (a broken link, a stored head lost)
