"""Where the SQL and Alembic files are: in the wheel, or in the source tree."""

from __future__ import annotations

from pathlib import Path

from pyproj_rpc.errors import ConfigurationError

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The ``db`` or ``alembic`` directory, wherever this installation keeps it."""
    for candidate in (PACKAGE_DIR / "_resources" / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigurationError(f"the {name}/ directory is missing from this installation")


def sql_file(*parts: str) -> Path:
    """A file under ``db/``."""
    path = resource_dir("db").joinpath(*parts)
    if not path.is_file():
        raise ConfigurationError(f"missing SQL file db/{'/'.join(parts)}")
    return path
