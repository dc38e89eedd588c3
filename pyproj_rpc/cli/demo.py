"""``pyproj-rpc demo``: the README's main command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg
from psycopg.rows import dict_row

from pyproj_rpc import demo as scenario
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb import LocalCluster, registry
from pyproj_rpc.provision import bootstrap_and_upgrade
from pyproj_rpc.queries import pinned_search_path, query
from pyproj_rpc.settings import DATABASE_URL_ENV, check_database_url


@contextmanager
def demo_database(database_url: str | None, keep: bool) -> Iterator[str]:
    """``--database-url``, else the running local cluster, else a new one (kept with
    --keep). Never $DATABASE_URL: it may name a database that matters."""
    if database_url:
        yield database_url
        return
    running = registry.running_local_cluster()
    if running is not None:
        click.echo("Using the running local cluster (pyproj-rpc db local).")
        yield running.info.url()
        return
    cluster = LocalCluster(reaper=not keep)
    click.echo("Starting a local PostgreSQL cluster...")
    cluster.start()
    try:
        if keep:
            registry.remember(cluster)
        yield cluster.info.url()
    finally:
        if not keep:
            cluster.stop()
            click.echo("\nStopped and removed the local cluster (keep it with --keep).")


def check_holds_only_demo_data(url: str) -> None:
    """Refuse a database with anyone's data but the demo's: the demo migrates it, adds an
    organization and changes statuses."""
    with (
        psycopg.connect(check_database_url(url), row_factory=dict_row) as conn,
        pinned_search_path(conn),
    ):
        present = conn.execute(query("demo_tables_present")).fetchone()
        assert present is not None
        foreign = {
            what: conn.execute(query(f"demo_foreign_{what}"), {}).fetchone()["n"]  # type: ignore[index]
            for what in ("users", "organizations")
            if present[what]
        }
    held = [f"{count} {what}" for what, count in foreign.items() if count]
    if held:
        raise ConfigurationError(
            f"this database holds data the demo did not write ({', '.join(held)}); the demo"
            " migrates it, adds an organization and changes statuses: pass --yes to run it"
            " there anyway, or leave out --database-url for a throwaway local cluster"
        )


@click.command()
@click.option(
    "--database-url",
    help="Run against this database (migrated first), if it holds nothing but demo data"
    " (see --yes). Default: a local cluster of its own; $DATABASE_URL is not used.",
)
@click.option(
    "--yes",
    is_flag=True,
    help="With --database-url: run even if the database holds other data.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the local cluster running (as `pyproj-rpc db local`) to explore.",
)
@click.option(
    "--relay/--no-relay",
    "with_relay",
    default=True,
    show_default=True,
    help="Deliver the notifications through an in-process relay at the end.",
)
def demo(database_url: str | None, yes: bool, keep: bool, with_relay: bool) -> None:
    """Migrate, seed a small organization and narrate a pause-management scenario."""
    if database_url and not yes:
        check_holds_only_demo_data(database_url)
    if not database_url and os.environ.get(DATABASE_URL_ENV):
        click.echo(f"${DATABASE_URL_ENV} is set; the demo does not use it (see --database-url).")
    with demo_database(database_url, keep) as url:
        created = bootstrap_and_upgrade(url)
        if created:
            click.echo(f"Supabase compatibility objects created: {len(created)}.")
        click.echo("Migrated to head.")
        cast = scenario.run(url, click.echo)
        if with_relay:
            scenario.deliver_through_relay(url, cast, click.echo)
        click.echo("\nExplore further:")
        if database_url or keep or registry.running_local_cluster() is not None:
            for command in scenario.explore_commands(cast):
                click.echo(f"  {command}")
            if keep:
                click.echo("  pyproj-rpc db local stop   # when you are done")
        else:
            click.echo("  pyproj-rpc demo --keep     # keeps the cluster, then prints commands")
            click.echo("  pyproj-rpc transitions --format mermaid --database-url ...")
