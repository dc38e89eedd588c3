"""The root ``pyproj-rpc`` command and its error handling."""

from __future__ import annotations

import json
from typing import Any

import click
import psycopg
import sqlalchemy.exc

from pyproj_rpc import __version__
from pyproj_rpc.api_errors import InvalidInput, PauseManagementError
from pyproj_rpc.cli import exit_codes
from pyproj_rpc.errors import ConfigurationError, PyprojRpcError


class Root(click.Group):
    """Turns expected failures into one line on stderr and a distinct exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            fail(str(exc), exit_codes.USAGE)
        except PauseManagementError as exc:
            refusal(exc)
        except (psycopg.OperationalError, sqlalchemy.exc.OperationalError) as exc:
            fail(f"cannot reach the database: {first_line(exc)}", exit_codes.UNAVAILABLE)
        except PyprojRpcError as exc:
            fail(str(exc), exit_codes.FAILURE)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def refusal(exc: PauseManagementError) -> None:
    """A refused call: its code and message (and details, hint), never a traceback."""
    lines = [f"{exc.code}: {exc.message}"]
    if exc.details is not None:
        lines.append(f"details: {json.dumps(exc.details, default=str)}")
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    code = exit_codes.USAGE if isinstance(exc, InvalidInput) else exit_codes.REFUSED
    fail("\n".join(lines), code)


def fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


@click.group(cls=Root)
@click.version_option(__version__, prog_name="pyproj-rpc")
def main() -> None:
    """Peer mentor pause management: database tools, clients and services."""


database_url_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="PostgreSQL URL. Default: $DATABASE_URL, else the running local cluster.",
)
