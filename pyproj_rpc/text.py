"""Plain text for terminals and logs: tables, diffs, and an error in one line."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns, two spaces apart; None shows as '-'."""
    cells = [[str(h) for h in headers]] + [
        ["-" if value is None else str(value) for value in row] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def first_line(exc: BaseException) -> str:
    """An error's first line (a SQLAlchemy error's driver error's), else its type's name."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unified_diff(recorded: Mapping[str, str], current: Mapping[str, str], came_from: str) -> str:
    """File by file (by name), a unified diff from the recorded files to what ``came_from``
    (the migrations, the database) gives now."""
    return "".join(
        line
        for name in sorted(set(recorded) | set(current))
        for line in difflib.unified_diff(
            recorded.get(name, "").splitlines(keepends=True),
            current.get(name, "").splitlines(keepends=True),
            fromfile=f"{name} (recorded)",
            tofile=f"{name} (from {came_from})",
        )
    )
