"""``pyproj-rpc expire-certifications``, ``remind-overdue`` and ``schedule``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
import psycopg

from pyproj_rpc import scheduler
from pyproj_rpc.cli.app import database_url_option
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.settings import resolve_database_url
from pyproj_rpc.text import format_table

batch_size_option = click.option(
    "--batch-size",
    default=scheduler.DEFAULT_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(1),
    help="Rows per committed transaction.",
)


def run_pass(
    database_url: str | None,
    which: str,
    sweep: Callable[[psycopg.Connection[Any], int, scheduler.Progress], int],
    batch_size: int,
    label: str,
) -> int:
    with psycopg.connect(resolve_database_url(database_url)) as conn:
        total = scheduler.estimate(conn, which)
        with click.progressbar(length=max(total, 1), label=label, show_pos=True) as bar:
            done = sweep(conn, batch_size, bar.update)
    return done


@click.command("expire-certifications")
@batch_size_option
@database_url_option
def expire_certifications(batch_size: int, database_url: str | None) -> None:
    """Expire every active or paused mentor whose certification lapsed (one pass)."""
    done = run_pass(database_url, "lapsed", scheduler.expire_lapsed, batch_size, "expiring")
    click.echo(f"expired {done} mentor(s)")


@click.command("remind-overdue")
@batch_size_option
@database_url_option
def remind_overdue(batch_size: int, database_url: str | None) -> None:
    """Tell coordinators about pauses past their expected return (once per pause)."""
    done = run_pass(database_url, "overdue", scheduler.remind_overdue, batch_size, "reminding")
    click.echo(f"reminded about {done} pause(s)")


@click.group()
def schedule() -> None:
    """The sweeps as pg_cron jobs inside the database (where pg_cron exists, e.g. Supabase)."""


def show(jobs: list[scheduler.CronJob], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                [
                    {**job.__dict__, "last_run": job.last_run and job.last_run.isoformat()}
                    for job in jobs
                ]
            )
        )
        return
    if not jobs:
        click.echo("no pyproj-rpc jobs scheduled")
        return
    click.echo(
        format_table(
            ("job", "schedule", "active", "last run", "last status"),
            [
                (
                    j.name,
                    j.schedule,
                    j.active,
                    j.last_run and f"{j.last_run:%Y-%m-%d %H:%M}",
                    j.last_status,
                )
                for j in jobs
            ],
        )
    )


def cron_schedule(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return scheduler.check_cron_schedule(value, what=f"--{param.name}")
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@schedule.command()
@click.option(
    "--expiry",
    default=scheduler.DEFAULT_EXPIRY_SCHEDULE,
    show_default=True,
    help="Cron schedule of the certification expiry sweep.",
    callback=cron_schedule,
)
@click.option(
    "--reminders",
    default=scheduler.DEFAULT_REMINDER_SCHEDULE,
    show_default=True,
    help="Cron schedule of the overdue-pause reminders.",
    callback=cron_schedule,
)
@click.option(
    "--purge",
    default=scheduler.DEFAULT_PURGE_SCHEDULE,
    show_default=True,
    help="Cron schedule of the idempotency-key purge.",
    callback=cron_schedule,
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@database_url_option
def install(
    expiry: str, reminders: str, purge: str, as_json: bool, database_url: str | None
) -> None:
    """Create or update the jobs (they run as the role you connect as)."""
    with psycopg.connect(resolve_database_url(database_url)) as conn:
        show(scheduler.install_cron_jobs(conn, expiry, reminders, purge), as_json)


@schedule.command()
@database_url_option
def remove(database_url: str | None) -> None:
    """Unschedule every pyproj-rpc job."""
    with psycopg.connect(resolve_database_url(database_url)) as conn:
        removed = scheduler.remove_cron_jobs(conn)
    click.echo(f"removed {len(removed)} job(s)" + (": " + ", ".join(removed) if removed else ""))


@schedule.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@database_url_option
def status(as_json: bool, database_url: str | None) -> None:
    """Our jobs, their schedules and how their last run went."""
    with psycopg.connect(resolve_database_url(database_url)) as conn:
        show(scheduler.cron_jobs(conn), as_json)
