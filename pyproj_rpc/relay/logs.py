"""Structured logs: one JSON object per line, one line per delivery outcome.

Every line has ``ts``, ``level`` and ``event``; outcome lines (``delivered``, ``retry``,
``dead_lettered``, ``released``, ``stale_claim``) add ``outbox_id``, ``webhook_id``,
``attempt``, ``outcome``, ``latency_ms`` and ``error``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER_NAME = "pyproj_rpc.relay"
logger = logging.getLogger(LOGGER_NAME)


def event(level: int, name: str, **fields: Any) -> None:
    """Log ``name`` with structured ``fields``."""
    logger.log(level, name, extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Send the relay's logs to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
