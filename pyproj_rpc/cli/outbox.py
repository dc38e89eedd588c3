"""``pyproj-rpc outbox``: inspect the notification backlog, retry dead letters, purge."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click

from pyproj_rpc.cli.app import database_url_option
from pyproj_rpc.cli.relay import duration_option
from pyproj_rpc.cli.render import jsonable
from pyproj_rpc.queries import query
from pyproj_rpc.relay.durations import format_duration
from pyproj_rpc.relay.messages import webhook_id
from pyproj_rpc.relay.store import OutboxStats, SyncConn, connect_sync
from pyproj_rpc.settings import resolve_database_url
from pyproj_rpc.text import format_table

role_option = click.option(
    "--role", help="SET ROLE after connecting (e.g. service_role). [default: the login role]"
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
ERROR_WIDTH = 60


def open_outbox(database_url: str | None, role: str | None) -> SyncConn:
    return connect_sync(resolve_database_url(database_url), role=role)


def scalar(conn: SyncConn, name: str, params: dict[str, Any] | None = None) -> Any:
    row = conn.execute(query(name), params).fetchone()
    assert row is not None
    return next(iter(row.values()))


@click.group()
def outbox() -> None:
    """The notification outbox: backlog, dead letters, retention."""


@outbox.command()
@database_url_option
@role_option
@json_option
def status(database_url: str | None, role: str | None, as_json: bool) -> None:
    """Show how many rows are pending, due, in flight, dead and delivered, and the lag."""
    with open_outbox(database_url, role) as conn:
        row = conn.execute(query("outbox_stats")).fetchone()
    assert row is not None
    stats = OutboxStats.from_row(row)
    if as_json:
        click.echo(json.dumps(jsonable(vars(stats)), indent=2))
        return
    lag = (
        f"{stats.oldest_pending_at:%Y-%m-%d %H:%M:%S %Z} "
        f"({format_duration(stats.oldest_pending_seconds)} ago)"
        if stats.oldest_pending_at
        else "-"
    )
    click.echo(
        format_table(
            ("state", "rows"),
            [
                ("pending", stats.pending),
                ("  due now", stats.due),
                ("  in flight", stats.in_flight),
                ("dead", stats.dead),
                ("delivered", stats.delivered),
            ],
        )
    )
    click.echo(f"oldest pending: {lag}")


@outbox.command(name="list")
@click.option(
    "--state",
    type=click.Choice(["pending", "dead", "delivered", "all"]),
    default="pending",
    show_default=True,
    help="Which rows: pending (due or in flight), dead letters, delivered, or all.",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=50,
    show_default=True,
    help="Most rows shown (pending: oldest first; the others: newest first).",
)
@database_url_option
@role_option
@json_option
def list_rows(
    state: str, limit: int, database_url: str | None, role: str | None, as_json: bool
) -> None:
    """List outbox rows: pending oldest first, the others newest first."""
    with open_outbox(database_url, role) as conn:
        rows = conn.execute(query("outbox_list"), {"state": state, "limit": limit}).fetchall()
    for row in rows:
        row["webhook_id"] = webhook_id(row["id"])
    if as_json:
        click.echo(json.dumps(jsonable(rows), indent=2))
        return
    if not rows:
        click.echo(f"no {state} rows" if state != "all" else "the outbox is empty")
        return
    click.echo(
        format_table(
            ("id", "state", "tries", "mentor", "change", "#", "created", "next try", "last error"),
            [
                (
                    row["id"],
                    row["state"],
                    row["attempts"],
                    row["mentor"],
                    change(row),
                    row["sequence"],
                    f"{row['created_at']:%Y-%m-%d %H:%M:%S}",
                    f"{row['available_at']:%H:%M:%S}" if row["state"] == "pending" else None,
                    shorten(row["last_error"]),
                )
                for row in rows
            ],
        )
    )


def change(row: dict[str, Any]) -> str:
    """``active -> paused`` for a status change, else the kind of notification."""
    if row["from_status"] and row["to_status"]:
        return f"{row['from_status']} -> {row['to_status']}"
    return str(row["kind"])


def shorten(text: str | None) -> str | None:
    if text is None or len(text) <= ERROR_WIDTH:
        return text
    return text[: ERROR_WIDTH - 1] + "…"


@outbox.command()
@click.option(
    "--id",
    "ids",
    type=int,
    multiple=True,
    help="A dead-lettered row to retry (repeat). Default: every dead letter.",
)
@database_url_option
@role_option
def retry(ids: tuple[int, ...], database_url: str | None, role: str | None) -> None:
    """Put dead-lettered rows back to pending (attempts reset); running relays wake up."""
    with open_outbox(database_url, role) as conn:
        count = scalar(conn, "outbox_requeue", {"ids": list(ids) if ids else None})
    click.echo(f"requeued {count} dead-lettered row{'s' if count != 1 else ''}")


@outbox.command(name="purge-delivered")
@duration_option("--older-than", required=True, help="Delivered longer ago than this (7d).")
@database_url_option
@role_option
def purge_delivered(older_than: float, database_url: str | None, role: str | None) -> None:
    """Delete delivered rows older than a retention period."""
    with open_outbox(database_url, role) as conn:
        count = scalar(
            conn, "outbox_purge_delivered", {"older_than": timedelta(seconds=older_than)}
        )
    click.echo(f"purged {count} delivered row{'s' if count != 1 else ''}")
