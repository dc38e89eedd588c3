"""The root ``pyproj-rpc`` command and its error handling."""

from __future__ import annotations

import importlib
import json
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from pyproj_rpc import __version__
from pyproj_rpc.cli import exit_codes
from pyproj_rpc.errors import ConfigurationError, PyprojRpcError
from pyproj_rpc.text import first_line

if TYPE_CHECKING:
    import psycopg

    from pyproj_rpc.api_errors import PauseManagementError

# libpq's complaints about the URL itself, not about the server it names
MALFORMED_URL = (
    "invalid integer value",
    "invalid connection option",
    'missing "=" after',
    "invalid URI",
    "unterminated quoted string",
    "invalid percent-encoded token",
    "invalid sslmode value",
    "invalid port number",
)


class Root(click.Group):
    """Turns expected failures into one line on stderr (a JSON object with ``--json``)
    and a distinct exit code; never a traceback for a user's mistake."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}  # name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, attribute = self.lazy_commands[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["json_errors"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        as_json = bool(ctx.meta.get("json_errors"))
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not as_json:
                raise
            fail(exc.format_message(), exc.exit_code, "usage", as_json)
        except ConfigurationError as exc:
            fail(str(exc), exit_codes.USAGE, "configuration", as_json)
        except Exception as exc:
            explain(exc, as_json)
            raise


def explain(exc: Exception, as_json: bool) -> None:
    """Exit with a clear error for an expected failure; return for a bug. psycopg and the
    contract's errors are imported only if a command loaded them (``--version`` does not)."""
    if "psycopg" in sys.modules:
        import psycopg  # noqa: PLC0415 (lazy: fast start)

        from pyproj_rpc.api_errors import PauseManagementError  # noqa: PLC0415 (lazy: fast start)

        if isinstance(exc, PauseManagementError):
            refusal(exc, as_json)
        if isinstance(exc, psycopg.Error):
            database_failure(exc, as_json)
        # SQLAlchemy (under Alembic) wraps the driver's error
        orig = getattr(exc, "orig", None)
        if isinstance(orig, psycopg.Error):
            database_failure(orig, as_json)
    if isinstance(exc, PyprojRpcError):
        fail(str(exc), exit_codes.FAILURE, "failed", as_json)


def database_failure(exc: psycopg.Error, as_json: bool) -> NoReturn:
    import psycopg  # noqa: PLC0415 (lazy: fast start)

    from pyproj_rpc.api_errors import NOT_MIGRATED  # noqa: PLC0415 (lazy: fast start)

    if isinstance(exc, NOT_MIGRATED):
        fail(
            f"the database is not migrated ({first_line(exc)}): run `pyproj-rpc db"
            " upgrade` (on plain PostgreSQL, `pyproj-rpc db bootstrap` first)",
            exit_codes.USAGE,
            "not_migrated",
            as_json,
        )
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        fail(
            f"not allowed: {first_line(exc)}; does this login need --role"
            " (e.g. mentoring_relay), or another login?",
            exit_codes.USAGE,
            "not_allowed",
            as_json,
        )
    if isinstance(exc, psycopg.OperationalError):
        text = first_line(exc)
        if any(sign in text for sign in MALFORMED_URL):
            fail(f"malformed database URL: {text}", exit_codes.USAGE, "configuration", as_json)
        fail(f"cannot reach the database: {text}", exit_codes.UNAVAILABLE, "unavailable", as_json)
    fail(f"the database refused: {first_line(exc)}", exit_codes.FAILURE, "failed", as_json)


def refusal(exc: PauseManagementError, as_json: bool = False) -> NoReturn:
    """A refused call: its code and message (and details, hint), never a traceback."""
    from pyproj_rpc.api_errors import InvalidInput  # noqa: PLC0415 (lazy: fast start)

    code = exit_codes.USAGE if isinstance(exc, InvalidInput) else exit_codes.REFUSED
    if as_json:
        emit_json_error(exc.code, exc.message, code, details=exc.details, hint=exc.hint)
    lines = [f"{exc.code}: {exc.message}"]
    if exc.details is not None:
        lines.append(f"details: {json.dumps(exc.details, default=str)}")
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    fail("\n".join(lines), code)


def fail(message: str, code: int, kind: str = "failed", as_json: bool = False) -> NoReturn:
    if as_json:
        emit_json_error(kind, message, code)
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def emit_json_error(kind: str, message: str, code: int, **more: Any) -> NoReturn:
    """``{"error": {"code", "message", "exit_code", ...}}`` on stderr."""
    document = {"code": kind, "message": message, "exit_code": code}
    document.update({key: value for key, value in more.items() if value is not None})
    click.echo(json.dumps({"error": document}, default=str), err=True)
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
