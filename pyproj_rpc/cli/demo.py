"""``pyproj-rpc demo``: the README's main command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from pyproj_rpc import demo as scenario
from pyproj_rpc.localdb import LocalCluster, registry
from pyproj_rpc.provision import bootstrap_and_upgrade


@contextmanager
def demo_database(database_url: str | None, keep: bool) -> Iterator[str]:
    """DATABASE_URL, else the running local cluster, else a new one (kept with --keep)."""
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


@click.command()
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="Run against this database (migrated first). Default: a local cluster.",
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
def demo(database_url: str | None, keep: bool, with_relay: bool) -> None:
    """Migrate, seed a small organization and narrate a pause-management scenario."""
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
