"""Durations as people write them: ``50ms``, ``5s``, ``10m``, ``24h``, ``7d``, ``1h30m``."""

from __future__ import annotations

import re

from pyproj_rpc.errors import ConfigurationError

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
OFF = frozenset({"off", "none", "never", "0"})


def parse_duration(text: str | float, *, what: str = "duration") -> float:
    """Seconds in ``text``, written with units like ``1h30m`` (a number from code is in
    seconds); must be positive. Text without a unit is refused: is ``7`` days or seconds?"""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = str(text).strip().lower()
        position, seconds = 0, 0.0
        for match in PART.finditer(value):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * UNITS[match.group(2)]
            position = match.end()
        if position != len(value) or not value:
            if NUMBER.fullmatch(value):
                raise ConfigurationError(
                    f"{what}: {text!r} needs a unit: {value}s, {value}m, {value}h or {value}d?"
                )
            raise ConfigurationError(
                f"{what}: {text!r} is not a duration (e.g. 500ms, 5s, 10m, 24h, 7d)"
            )
    if seconds <= 0:
        raise ConfigurationError(f"{what}: {text!r} must be positive")
    return seconds


def parse_optional_duration(text: str | float | None, *, what: str = "duration") -> float | None:
    """Like :func:`parse_duration`, but ``off`` (or ``none``, ``never``, ``0``) means None."""
    if text is None or (isinstance(text, str) and text.strip().lower() in OFF):
        return None
    if isinstance(text, int | float) and not isinstance(text, bool) and text == 0:
        return None
    return parse_duration(text, what=what)


def format_duration(seconds: float) -> str:
    """A short human form: ``250ms``, ``5s``, ``2m30s``, ``1d``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    parts = []
    remaining = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
