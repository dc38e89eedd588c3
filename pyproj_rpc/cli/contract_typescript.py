"""``pyproj-rpc contract typescript``: write the api schema as supabase-js types."""

from __future__ import annotations

from pathlib import Path

import click
import psycopg

from pyproj_rpc import schemafile, typescript_types


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("contract/database.types.ts"),
    show_default=True,
    help="The .ts file to write (or check).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; fail with a diff when the file differs from what the database gives.",
)
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="A database migrated to head. Default: $DATABASE_URL, else a throwaway local cluster.",
)
def typescript(output: Path, check: bool, database_url: str | None) -> None:
    """Write the api schema's functions, enums and composite types as TypeScript types
    for supabase-js (the shape of `supabase gen types typescript`, which needs Docker).

    Reads a database already migrated to head when given --database-url (or
    $DATABASE_URL); otherwise migrates a throwaway local cluster, started and removed
    here. Use the result with createClient<Database>(url, key).schema('api').rpc(...).
    """
    if database_url:
        with psycopg.connect(database_url) as conn:
            current = typescript_types.generate(conn)
    else:
        with (
            schemafile.migrated_throwaway_database() as (_, url),
            psycopg.connect(url) as conn,
        ):
            current = typescript_types.generate(conn)
    if not check:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(current)
        click.echo(f"wrote {output}")
        return
    recorded = output.read_text() if output.is_file() else ""
    if recorded != current:
        click.echo(typescript_types.diff(recorded, current, str(output)), nl=False)
        raise click.ClickException(
            f"{output} differs from the api schema: run `{typescript_types.REGENERATE}`"
        )
    click.echo(f"{output}: matches the api schema")
