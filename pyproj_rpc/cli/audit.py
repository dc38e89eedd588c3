"""``pyproj-rpc audit``: the audit trail's chain heads, and verifying the chains."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import psycopg

from pyproj_rpc import audit as chain
from pyproj_rpc.cli import exit_codes
from pyproj_rpc.cli.app import database_url_option, emit_json_error, fail
from pyproj_rpc.cli.render import jsonable
from pyproj_rpc.queries import query
from pyproj_rpc.settings import resolve_database_url
from pyproj_rpc.text import format_table

role_option = click.option(
    "--role",
    help="SET ROLE after connecting (service_role reads the whole trail). "
    "[default: the login role: the owner or a superuser]",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def connect(database_url: str | None, role: str | None) -> psycopg.Connection[Any]:
    conn = psycopg.connect(resolve_database_url(database_url), autocommit=True)
    if role:
        try:
            conn.execute(query("relay_set_role"), {"role": role})
        except psycopg.Error as exc:
            conn.close()
            raise chain.AuditAccessDenied(
                f"cannot SET ROLE {role}: {exc.diag.message_primary}"
            ) from exc
    return conn


@contextmanager
def untampered_catalog(as_json: bool) -> Iterator[None]:
    """A catalog that would run foreign code as us: exit 5, with each finding."""
    try:
        yield
    except chain.AuditCatalogTampered as exc:
        findings = [{"finding": f.finding, "detail": f.detail} for f in exc.findings]
        if as_json:
            emit_json_error(exc.code, str(exc), exit_codes.BROKEN, details=findings)
        fail(str(exc), exit_codes.BROKEN, exc.code)


@click.group()
def audit() -> None:
    """The audit trail's hash chains: heads to store elsewhere, and verification."""


@audit.command()
@database_url_option
@role_option
@json_option
def heads(database_url: str | None, role: str | None, as_json: bool) -> None:
    """Print every mentor's chain head (mentor, sequence, hash) and a digest of them all.

    Store the --json output outside the database (and the digest in a second place):
    `audit verify --heads FILE` then proves that no event up to these heads changed.
    """
    with untampered_catalog(as_json), connect(database_url, role) as conn:
        current = chain.read_heads(conn)
    if as_json:
        click.echo(json.dumps(current.document(), indent=2))
        return
    if current.heads:
        click.echo(
            format_table(
                ("mentor", "sequence", "hash"),
                [(head.mentor_id, head.sequence, head.hash) for head in current.heads],
            )
        )
    click.echo(f"{len(current.heads)} chain head(s) at {current.taken_at.isoformat()}")
    click.echo(f"digest: {current.digest}")


@audit.command()
@click.option("--mentor", "mentor_id", type=click.UUID, help="Only this mentor's trail.")
@click.option(
    "--heads",
    "heads_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Stored heads (`audit heads --json`): each must still be in its chain, unchanged.",
)
@database_url_option
@role_option
@json_option
def verify(
    mentor_id: UUID | None,
    heads_file: Path | None,
    database_url: str | None,
    role: str | None,
    as_json: bool,
) -> None:
    """Recompute every chain, cross-check statuses, versions and pauses, compare with
    stored heads; report the first broken link of each mentor (exit 5 if any)."""
    stored = chain.load_heads(heads_file) if heads_file else None
    with untampered_catalog(as_json), connect(database_url, role) as conn:
        result = chain.verify(conn, mentor_id=mentor_id, stored=stored)
    if as_json:
        click.echo(json.dumps({"ok": result.ok, **jsonable(result)}, indent=2))
    else:
        click.echo(
            f"checked {result.mentors} mentor(s), {result.events} event(s), "
            f"{result.heads_compared} stored head(s) in {result.seconds:.2f} s"
        )
        if result.ok:
            click.echo("the audit trail holds")
        else:
            click.echo(
                format_table(
                    ("mentor", "at event", "problem", "detail", "problems"),
                    [
                        (p.mentor_id, p.sequence, p.problem, p.detail, p.problems)
                        for p in result.problems
                    ],
                )
            )
    if not result.ok:
        click.echo(
            f"error: the audit trail of {len(result.problems)} mentor(s) does not hold",
            err=True,
        )
        raise SystemExit(exit_codes.BROKEN)
