"""``pyproj-rpc db``: migrations, the Supabase compatibility bootstrap, the local cluster."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import psycopg

from pyproj_rpc import logins as service_logins
from pyproj_rpc import migrations, schemafile, supabase_export
from pyproj_rpc.cli.app import database_url_option
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb import LocalCluster, find_server_binaries, registry
from pyproj_rpc.localdb.binaries import has_extension
from pyproj_rpc.localdb.cluster import PG_CRON_SETTINGS, THROWAWAY_SETTINGS, describe
from pyproj_rpc.queries import query
from pyproj_rpc.settings import resolve_database_url


@click.group()
def db() -> None:
    """Migrate a database, print its SQL, or run a local PostgreSQL."""


def bootstrap(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return migrations.apply_supabase_compat(conn)


def report_bootstrap(changes: list[str]) -> None:
    created = [change for change in changes if not change.startswith("repaired ")]
    repaired = [change.removeprefix("repaired ") for change in changes if change not in created]
    if created:
        click.echo("Supabase compatibility: created " + ", ".join(created))
    if repaired:
        click.echo("Supabase compatibility: repaired " + ", ".join(repaired))


@db.command()
@click.argument("revision", default="head")
@database_url_option
@click.option(
    "--bootstrap/--no-bootstrap",
    "with_bootstrap",
    default=True,
    show_default=True,
    help="First create the Supabase objects the migrations need, where missing "
    "(a no-op on Supabase).",
)
def upgrade(revision: str, database_url: str | None, with_bootstrap: bool) -> None:
    """Upgrade the database to REVISION (default: head)."""
    url = resolve_database_url(database_url)
    if with_bootstrap:
        report_bootstrap(bootstrap(url))
    migrations.upgrade(url, revision)
    click.echo(f"at revision: {migrations.current(url).strip() or 'base'}")


@db.command()
@click.argument("revision")
@database_url_option
def downgrade(revision: str, database_url: str | None) -> None:
    """Downgrade the database to REVISION (`base` removes everything of ours)."""
    url = resolve_database_url(database_url)
    migrations.downgrade(url, revision)
    click.echo(f"at revision: {migrations.current(url).strip() or 'base'}")


@db.command()
@database_url_option
def current(database_url: str | None) -> None:
    """Print the database's revision."""
    click.echo(migrations.current(resolve_database_url(database_url)).strip() or "base")


@db.command()
def history() -> None:
    """List the revisions, newest first."""
    click.echo(migrations.history().rstrip())


@db.command()
@click.option("--from", "from_revision", help="Start after this revision (default: empty).")
@click.option(
    "--to", "to_revision", default="head", show_default=True, help="The revision to end at."
)
@click.option(
    "--downgrade", "is_downgrade", is_flag=True, help="Print the way back, --from down to --to."
)
def sql(from_revision: str | None, to_revision: str, is_downgrade: bool) -> None:
    """Print the migration SQL for review, without touching a database."""
    if is_downgrade:
        if not from_revision:
            raise click.UsageError("--downgrade needs --from")
        click.echo(migrations.offline_downgrade_sql(from_revision, to_revision), nl=False)
    else:
        click.echo(migrations.offline_sql(from_revision, to_revision), nl=False)


@db.command(name="bootstrap")
@database_url_option
def bootstrap_command(database_url: str | None) -> None:
    """Create the Supabase roles, auth schema and auth functions where missing."""
    created = bootstrap(resolve_database_url(database_url))
    report_bootstrap(created)
    if not created:
        click.echo("Supabase compatibility: nothing missing")


@db.command(name="logins")
@database_url_option
@click.option(
    "--api/--no-api",
    "with_api",
    default=True,
    show_default=True,
    help=f"The REST adapter's login; password from ${service_logins.API.password_env}.",
)
@click.option(
    "--relay/--no-relay",
    "with_relay",
    default=True,
    show_default=True,
    help=f"The relay's login; password from ${service_logins.RELAY.password_env}.",
)
@click.option(
    "--api-login", default=service_logins.API.name, show_default=True, help="The api login's name."
)
@click.option(
    "--relay-login",
    default=service_logins.RELAY.name,
    show_default=True,
    help="The relay login's name.",
)
def logins_command(
    database_url: str | None, with_api: bool, with_relay: bool, api_login: str, relay_login: str
) -> None:
    """Create or update the NOINHERIT logins of the REST adapter and the relay.

    The api login may only SET ROLE to anon, authenticated and service_role (as PostgREST's
    authenticator); the relay login only to mentoring_relay. Any other membership is
    revoked. Passwords come from the environment only (never the command line), at least
    16 characters, not a placeholder. Run it as the owner after `db upgrade`; running it
    again sets the passwords again (rotation).
    """
    wanted = [(service_logins.API, api_login)] if with_api else []
    wanted += [(service_logins.RELAY, relay_login)] if with_relay else []
    if not wanted:
        raise click.UsageError("nothing to do: --no-api and --no-relay")
    requests = service_logins.requests_from_env(wanted, os.environ)
    url = resolve_database_url(database_url)
    for report in service_logins.ensure_logins(url, requests):
        click.echo(report.describe())


@db.command()
@click.argument("name")
def checksum(name: str) -> None:
    """Print the sha256 to record in the revision whose SQL is db/migrations/NAME."""
    click.echo(migrations.SqlRevision(name, sha256="").computed_sha256())


@db.command()
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: print the differences and fail when the file is stale.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write (or check) this file instead of db/schema.sql.",
)
def schema(check: bool, output: Path | None) -> None:
    """Write db/schema.sql: the schema the migrations build, dumped from a throwaway
    database migrated to head (a local cluster, started and removed here)."""
    path = output or schemafile.schema_file()
    current = schemafile.generate()
    if not check:
        path.write_text(current)
        click.echo(f"wrote {path}")
        return
    recorded = path.read_text() if path.is_file() else ""
    if recorded != current:
        click.echo(schemafile.diff(recorded, current, str(path)), nl=False)
        raise click.ClickException(
            f"{path} differs from what the migrations build: run `{schemafile.REGENERATE}`"
        )
    click.echo(f"{path}: matches the migrations")


@db.command(name="export-supabase")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def export_supabase(directory: Path) -> None:
    """Write every revision as a Supabase CLI migration into DIRECTORY (e.g.
    supabase/migrations): <timestamp>_pyproj_rpc_<rev>.sql, the same bytes each time.

    Each file also records its revision in Alembic's version table, so `supabase db push`
    and `pyproj-rpc db upgrade` can take over from each other. The files need the Supabase
    roles and auth schema: on plain PostgreSQL run `pyproj-rpc db bootstrap` first.
    """
    for path in supabase_export.export(directory):
        click.echo(f"wrote {path}")


@db.group()
def local() -> None:
    """A local PostgreSQL cluster, run as an unprivileged user (also when you are root)."""


@local.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the data here across restarts (default: a throwaway temp dir); the port too.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="TCP port on 127.0.0.1. Default: the data directory's port of last time, else a free one.",
)
@click.option(
    "--pg-cron/--no-pg-cron",
    "pg_cron",
    default=None,
    help="Preload pg_cron and create it in the postgres database, for `pyproj-rpc schedule"
    " install`. Default: when pg_cron is installed for this server.",
)
def start(data_dir: Path | None, port: int | None, pg_cron: bool | None) -> None:
    """Start the local cluster and print its URL."""
    running = registry.running_local_cluster()
    if running is not None:
        click.echo(f"already running: {running.info.url()}")
        return
    stale = registry.remembered()
    if stale is not None:  # left behind by a reboot or a killed server: clean it up first
        LocalCluster.attach(stale).stop()
    binaries = find_server_binaries()
    available = has_extension(binaries, "pg_cron")
    if pg_cron and not available:
        raise ConfigurationError(
            f"pg_cron is not installed for PostgreSQL {binaries.major_version}"
            f" (Debian: apt-get install postgresql-{binaries.major_version}-cron)"
        )
    with_cron = available if pg_cron is None else pg_cron
    settings = {} if data_dir else dict(THROWAWAY_SETTINGS)
    if with_cron:
        settings |= PG_CRON_SETTINGS
    cluster = LocalCluster(
        data_dir=data_dir.resolve() if data_dir else None,
        binaries=binaries,
        settings=settings,
        reaper=False,
        port=port,
    )
    info = cluster.start()
    registry.remember(cluster)
    try:
        report_bootstrap(bootstrap(info.url()))
        if with_cron:
            with psycopg.connect(info.url(), autocommit=True) as conn:
                conn.execute(query("local_create_pg_cron"))
            click.echo("pg_cron: preloaded, created in the postgres database")
    except BaseException:
        cluster.stop()
        registry.forget()
        raise
    click.echo(f"started PostgreSQL {cluster.binaries.major_version} ({cluster.binaries.source})")
    click.echo(info.url())


@local.command()
def stop() -> None:
    """Stop the local cluster (a throwaway one is deleted)."""
    state = registry.remembered()
    if state is None:
        click.echo("not running")
        return
    LocalCluster.attach(state).stop()
    registry.forget()
    click.echo("stopped")


@local.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Say whether the local cluster runs, and where."""
    state = registry.remembered()
    summary = describe(state) if state else {"running": False}
    if as_json:
        click.echo(json.dumps(summary))
        return
    if not summary["running"]:
        click.echo("not running")
        return
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


@local.command()
@click.option("--socket", is_flag=True, help="The Unix-socket URL (no password) instead of TCP.")
def url(socket: bool) -> None:
    """Print the local cluster's URL (e.g. `export DATABASE_URL=$(pyproj-rpc db local url)`)."""
    cluster = registry.running_local_cluster()
    if cluster is None:
        raise click.ClickException("the local cluster is not running: pyproj-rpc db local start")
    click.echo(cluster.info.socket_url() if socket else cluster.info.url())
