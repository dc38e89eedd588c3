"""The package's public names, and a command line that starts without loading what it
does not use."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

import pyproj_rpc
from pyproj_rpc.cli import main

HEAVY = (
    "fastapi",
    "alembic",
    "sqlalchemy",
    "uvicorn",
    "aiohttp",
    "httpx",
    "psycopg",
    "pyproj_rpc.bench",
)


def modules_loaded_by(*args: str) -> list[str]:
    """The heavy modules ``pyproj-rpc ARGS`` imports, run in a fresh interpreter."""
    script = (
        "import json, sys\n"
        "from pyproj_rpc.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted({m for m in sys.modules if m.startswith(heavy)})))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded: list[str] = json.loads(output.splitlines()[-1])
    return loaded


def test_the_client_the_identity_and_the_errors_import_from_the_package() -> None:
    from pyproj_rpc import (  # noqa: PLC0415 (the import is the behaviour under test)
        AsyncPauseManagementClient,
        Identity,
        PauseManagementClient,
        PauseManagementError,
    )

    assert PauseManagementClient.__module__ == "pyproj_rpc.client"
    assert AsyncPauseManagementClient.__module__ == "pyproj_rpc.client"
    assert issubclass(PauseManagementError, pyproj_rpc.PyprojRpcError)
    assert Identity.service().role == "service_role"
    assert set(pyproj_rpc.__all__) <= set(dir(pyproj_rpc))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nonsense'"):
        pyproj_rpc.Nonsense  # type: ignore[attr-defined]  # noqa: B018


def test_version_loads_no_database_driver_web_framework_or_benchmark() -> None:
    assert modules_loaded_by("--version") == []


def test_a_mentor_command_loads_neither_the_web_framework_nor_alembic_nor_the_benchmarks() -> None:
    loaded = modules_loaded_by("mentor", "--help")
    assert not [m for m in loaded if m.startswith(("fastapi", "alembic", "pyproj_rpc.bench"))]


def test_every_option_of_every_command_says_what_it_does() -> None:
    missing = []

    def walk(command: click.Command, path: str) -> None:
        for param in command.params:
            if isinstance(param, click.Option) and not param.help and "--help" not in param.opts:
                missing.append(f"{path} {param.opts[0]}")
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                assert sub is not None
                walk(sub, f"{path} {name}")

    walk(main, "pyproj-rpc")
    assert missing == []
