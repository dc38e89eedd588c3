"""``pyproj-rpc mentor ...`` and ``pyproj-rpc transitions``: the RPC contract from a shell.

Every command acts as one identity (``--as USER_ID`` or ``--service``), exactly as a
Supabase client with that user's token would through PostgREST.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

import click
import psycopg

from pyproj_rpc import statemachine
from pyproj_rpc.cli import render
from pyproj_rpc.cli.app import database_url_option
from pyproj_rpc.client import PauseManagementClient
from pyproj_rpc.identity import Identity
from pyproj_rpc.settings import resolve_database_url

F = TypeVar("F", bound=Callable[..., Any])


def acting(command: F) -> F:
    """Options every mentor command takes: who acts, which database, the output format."""

    @click.option(
        "--as",
        "as_user",
        type=click.UUID,
        metavar="USER_ID",
        help="Act as this signed-in user (auth.users id).",
    )
    @click.option("--service", is_flag=True, help="Act as service_role (the backend).")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @database_url_option
    @functools.wraps(command)
    def wrapper(
        as_user: UUID | None, service: bool, as_json: bool, database_url: str | None, **kwargs: Any
    ) -> None:
        if service and as_user is None:
            identity = Identity.service()
        elif as_user is not None and not service:
            identity = Identity.user(as_user)
        else:
            raise click.UsageError("say who acts: --as USER_ID or --service (exactly one)")
        with PauseManagementClient(resolve_database_url(database_url), identity=identity) as client:
            result, human = command(client, **kwargs)
        click.echo(render.as_json(result) if as_json else human(result))

    return wrapper  # type: ignore[return-value]


mentor_id_argument = click.argument("mentor_id", type=click.UUID)
idempotency_option = click.option(
    "--idempotency-key", type=click.UUID, help="Repeat-safe: the same key returns the first result."
)


@click.group()
def mentor() -> None:
    """Read and change mentors' statuses through the RPC contract."""


@mentor.command()
@mentor_id_argument
@acting
def status(client: PauseManagementClient, mentor_id: UUID) -> tuple[Any, Callable[[Any], str]]:
    """Show a mentor's status, certification and what you may do."""
    return client.get_current_status(mentor_id), render.status


@mentor.command()
@mentor_id_argument
@click.option("--reason", required=True, help="Why (1-500 characters).")
@click.option(
    "--return-date", type=click.DateTime(["%Y-%m-%d"]), help="Expected back (YYYY-MM-DD)."
)
@click.option("--force", is_flag=True, help="Override blocking preconditions (staff only).")
@idempotency_option
@acting
def pause(
    client: PauseManagementClient,
    *,
    mentor_id: UUID,
    reason: str,
    return_date: Any,
    force: bool,
    idempotency_key: UUID | None,
) -> tuple[Any, Callable[[Any], str]]:
    """Pause an active mentor."""
    back: date | None = return_date.date() if return_date else None
    result = client.activate_pause(
        mentor_id, reason, expected_return_date=back, force=force, idempotency_key=idempotency_key
    )
    return result, render.transition


@mentor.command()
@mentor_id_argument
@click.option("--reason", help="A note on why the pause ends.")
@idempotency_option
@acting
def lift(
    client: PauseManagementClient, mentor_id: UUID, reason: str | None, idempotency_key: UUID | None
) -> tuple[Any, Callable[[Any], str]]:
    """End a paused mentor's pause."""
    return client.lift_pause(mentor_id, reason, idempotency_key=idempotency_key), render.transition


@mentor.command()
@mentor_id_argument
@click.option("--reason", help="A note on the reactivation.")
@idempotency_option
@acting
def reactivate(
    client: PauseManagementClient, mentor_id: UUID, reason: str | None, idempotency_key: UUID | None
) -> tuple[Any, Callable[[Any], str]]:
    """Make a paused or expired_cert mentor active again (needs a valid certification)."""
    result = client.reactivate_mentor(mentor_id, reason, idempotency_key=idempotency_key)
    return result, render.transition


@mentor.command()
@mentor_id_argument
@acting
def expire(client: PauseManagementClient, mentor_id: UUID) -> tuple[Any, Callable[[Any], str]]:
    """Expire a mentor whose certification lapsed (service or admin)."""
    return client.auto_expire_for_certification(mentor_id), render.transition


@mentor.command()
@mentor_id_argument
@acting
def history(client: PauseManagementClient, mentor_id: UUID) -> tuple[Any, Callable[[Any], str]]:
    """Show a mentor's status events and pauses, newest first."""
    return client.get_pause_history(mentor_id), render.history


@mentor.command()
@click.option("--coordinator", type=click.UUID, help="Whose mentors (default: yours).")
@acting
def paused(
    client: PauseManagementClient, coordinator: UUID | None
) -> tuple[Any, Callable[[Any], str]]:
    """List the paused mentors of a coordinator."""
    return client.get_paused_mentors(coordinator), render.paused


@click.command()
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "mermaid"]),
    default="table",
    show_default=True,
    help="A table, or a Mermaid state diagram for docs.",
)
@database_url_option
def transitions(output: str, database_url: str | None) -> None:
    """Show the state machine, read from the database's transitions table."""
    with psycopg.connect(resolve_database_url(database_url)) as conn:
        rules = statemachine.load(conn)
    click.echo(statemachine.mermaid(rules) if output == "mermaid" else statemachine.table(rules))
