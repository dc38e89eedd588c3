"""``pyproj-rpc roster ...``: organizations, staff, mentors, coordinators, certifications.

Written as the tables' owner through their constraints and triggers (docs/integration.md);
never a status change. Refusals print ``error: <code>: <message>`` (JSON with ``--json``)
and exit 2 for bad input or setup, 3 for what the database holds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pyproj_rpc.cli import exit_codes
from pyproj_rpc.cli.app import database_url_option, emit_json_error
from pyproj_rpc.cli.render import jsonable
from pyproj_rpc.roster import (
    Outcome,
    Roster,
    RosterError,
    UserRef,
    Validity,
    clean_optional_text,
    connect,
    invalid,
    parse_date,
    parse_uuid,
    run_change,
)
from pyproj_rpc.roster_import import apply, prepare
from pyproj_rpc.settings import resolve_database_url
from pyproj_rpc.text import format_table

F = TypeVar("F", bound=Callable[..., Any])


class Target:
    """The database a command uses, resolved only once the arguments are checked."""

    def __init__(self, database_url: str | None, as_json: bool) -> None:
        self._database_url = database_url
        self.as_json = as_json

    @property
    def url(self) -> str:
        return resolve_database_url(self._database_url)

    def show(self, outcomes: list[Outcome]) -> None:
        if self.as_json:
            click.echo(json.dumps({"changes": [o.to_dict() for o in outcomes]}, indent=2))
        else:
            for outcome in outcomes:
                click.echo(outcome.line())


def roster_command(command: F) -> F:
    """``--json`` and ``--database-url``, and refusals as one line (or JSON) and an exit code."""

    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output (and errors).")
    @database_url_option
    @functools.wraps(command)
    def wrapper(as_json: bool, database_url: str | None, **kwargs: Any) -> None:
        try:
            command(Target(database_url, as_json), **kwargs)
        except RosterError as exc:
            refuse(exc, as_json)

    return wrapper  # type: ignore[return-value]


def refuse(exc: RosterError, as_json: bool) -> NoReturn:
    """As every command's errors (see pyproj_rpc.cli.app): one line, or the JSON object."""
    code = exit_codes.USAGE if exc.is_input_error else exit_codes.REFUSED
    if as_json:
        emit_json_error(exc.code, exc.message, code, details=exc.details, hint=exc.hint or None)
    lines = [f"error: {exc.code}: {exc.message}"]
    if exc.details:
        lines.append(f"details: {json.dumps(exc.details, default=str)}")
    if exc.hint:
        lines.append(f"hint: {exc.hint}")
    click.echo("\n".join(lines), err=True)
    raise SystemExit(code)


def user_ref(user_id: str | None, email: str | None) -> UserRef:
    if user_id is None and email is None:
        raise invalid("user", "name the user: --user-id ID or --email EMAIL")
    return UserRef(
        user_id=parse_uuid(user_id, "--user-id") if user_id else None,
        email=UserRef.parse(email, "--email").email if email else None,
    )


def optional_date(value: str | None, name: str) -> Any:
    return parse_date(value, name) if value else None


user_options = [
    click.option("--user-id", metavar="USER_ID", help="Their auth.users id."),
    click.option(
        "--email", help="Their email (an auth.users row, or a new one with --create-user)."
    ),
    click.option(
        "--create-user",
        is_flag=True,
        help="Development only: create a local auth.users row for --email when there is none "
        "(refused when Supabase Auth owns auth.users).",
    ),
]


def with_user_options(command: F) -> F:
    for option in reversed(user_options):
        command = option(command)
    return command


@click.group()
def roster() -> None:
    """Set up organizations: staff, mentors, coordinators and certifications.

    Writes as the database owner, through the same constraints and triggers as every
    writer; never changes a status (the state machine and the expiry sweep do).
    ORG is an organization's id or exact name.
    """


@roster.group()
def org() -> None:
    """Organizations."""


@org.command("create")
@click.argument("name")
@click.option(
    "--time-zone",
    default="UTC",
    show_default=True,
    help="IANA time zone: dates (pauses, certifications) are this zone's.",
)
@roster_command
def org_create(target: Target, name: str, time_zone: str) -> None:
    """Create an organization (refused when the name is taken)."""
    target.show(run_change(target.url, Roster.create_organization, name, time_zone))


@roster.group()
def staff() -> None:
    """Admins and coordinators of an organization."""


@staff.command("add")
@click.argument("organization", metavar="ORG")
@click.option("--role", required=True, metavar="admin|coordinator", help="Their staff role.")
@with_user_options
@roster_command
def staff_add(
    target: Target,
    *,
    organization: str,
    role: str,
    user_id: str | None,
    email: str | None,
    create_user: bool,
) -> None:
    """Make a user an admin or coordinator of ORG (or change their role)."""
    who = user_ref(user_id, email)

    def add(r: Roster) -> list[Outcome]:
        return r.ensure_staff(r.organization(organization), who, role, create_user=create_user)

    target.show(run_change(target.url, add))


@roster.group()
def mentor() -> None:
    """Mentors."""


@mentor.command("add")
@click.argument("organization", metavar="ORG")
@click.argument("name")
@with_user_options
@click.option(
    "--certified-from", metavar="YYYY-MM-DD", help="First day of their current certification."
)
@click.option("--certified-until", metavar="YYYY-MM-DD", help="Its last day (default: no end).")
@click.option("--certification", "certification_name", help="The certification's name.")
@roster_command
def mentor_add(
    target: Target,
    *,
    organization: str,
    name: str,
    user_id: str | None,
    email: str | None,
    create_user: bool,
    certified_from: str | None,
    certified_until: str | None,
    certification_name: str | None,
) -> None:
    """Add a mentor NAME to ORG, with or without a user.

    They start active when the certification given covers today (in ORG's time zone),
    else expired_cert (a coordinator reactivates them once certified).
    """
    who = user_ref(user_id, email) if (user_id or email) else None
    if create_user and who is None:
        raise invalid("--email", "--create-user needs --email")
    validity = None
    if certified_from:
        validity = Validity(
            parse_date(certified_from, "--certified-from"),
            optional_date(certified_until, "--certified-until"),
            clean_optional_text(certification_name, "--certification"),
        )
    elif certified_until or certification_name:
        raise invalid("--certified-from", "a certification needs --certified-from")

    def add(r: Roster) -> list[Outcome]:
        return r.add_mentor(
            r.organization(organization), name, who, validity, create_user=create_user
        )

    target.show(run_change(target.url, add))


coordinator_argument = click.argument("coordinator", metavar="COORDINATOR")


@roster.command()
@click.argument("mentor_id", metavar="MENTOR_ID")
@coordinator_argument
@roster_command
def assign(target: Target, mentor_id: str, coordinator: str) -> None:
    """Assign COORDINATOR (user id or email; staff of the mentor's organization)."""
    mentor = parse_uuid(mentor_id, "MENTOR_ID")
    who = UserRef.parse(coordinator, "COORDINATOR")
    target.show(run_change(target.url, Roster.assign, mentor, who))


@roster.command()
@click.argument("mentor_id", metavar="MENTOR_ID")
@coordinator_argument
@roster_command
def unassign(target: Target, mentor_id: str, coordinator: str) -> None:
    """Unassign COORDINATOR (user id or email) from the mentor."""
    mentor = parse_uuid(mentor_id, "MENTOR_ID")
    who = UserRef.parse(coordinator, "COORDINATOR")
    target.show(run_change(target.url, Roster.unassign, mentor, who))


@roster.group()
def cert() -> None:
    """Certifications: a mentor is certified on a day some certification covers."""


@cert.command("record")
@click.argument("mentor_id", metavar="MENTOR_ID")
@click.option("--from", "valid_from", required=True, metavar="YYYY-MM-DD", help="First day.")
@click.option("--until", "valid_until", metavar="YYYY-MM-DD", help="Last day (default: no end).")
@click.option("--name", help="The certification's name.")
@roster_command
def cert_record(
    target: Target, mentor_id: str, valid_from: str, valid_until: str | None, name: str | None
) -> None:
    """Record a certification. It changes no status: an expired_cert mentor is reactivated
    by a coordinator or admin."""
    mentor = parse_uuid(mentor_id, "MENTOR_ID")
    validity = Validity(
        parse_date(valid_from, "--from"),
        optional_date(valid_until, "--until"),
        clean_optional_text(name, "--name"),
    )
    target.show(run_change(target.url, Roster.record_certification, mentor, validity))


@cert.command("extend")
@click.argument("certification_id", metavar="CERTIFICATION_ID")
@click.option("--until", "valid_until", metavar="YYYY-MM-DD", help="The new, later last day.")
@click.option("--no-end", is_flag=True, help="Valid until further notice.")
@roster_command
def cert_extend(
    target: Target, certification_id: str, valid_until: str | None, no_end: bool
) -> None:
    """Give a certification a later last day."""
    cert_id = parse_uuid(certification_id, "CERTIFICATION_ID")
    if bool(valid_until) == no_end:
        raise invalid("--until", "say how far: --until YYYY-MM-DD or --no-end (exactly one)")
    until = optional_date(valid_until, "--until")
    target.show(run_change(target.url, Roster.extend_certification, cert_id, until))


@cert.command("end")
@click.argument("certification_id", metavar="CERTIFICATION_ID")
@click.option(
    "--last-day",
    metavar="YYYY-MM-DD",
    help="Its new last day. Default: yesterday in the organization's time zone.",
)
@roster_command
def cert_end(target: Target, certification_id: str, last_day: str | None) -> None:
    """End a certification early. A mentor it leaves uncertified stays active until the
    expiry sweep moves them (`pyproj-rpc expire-certifications`)."""
    cert_id = parse_uuid(certification_id, "CERTIFICATION_ID")
    day = optional_date(last_day, "--last-day")
    target.show(run_change(target.url, Roster.end_certification, cert_id, day))


@roster.command("list")
@click.option("--org", "organization", metavar="ORG", help="Only this organization.")
@roster_command
def list_(target: Target, organization: str | None) -> None:
    """Show organizations with their staff, mentors, coordinators and certifications."""
    with connect(target.url) as conn:
        r = Roster(conn)
        r.check_ready()
        listing = r.listing(organization)
    if target.as_json:
        click.echo(json.dumps(jsonable(listing), indent=2))
        return
    click.echo(render_listing(listing))


def render_listing(listing: dict[str, Any]) -> str:
    if not listing["organizations"]:
        return "no organizations (create one: pyproj-rpc roster org create NAME)"
    parts = []
    for o in listing["organizations"]:
        staff_table = format_table(
            ("role", "email", "user id"),
            [(s["role"], s["email"], s["user_id"]) for s in o["staff"]],
        )
        mentors = format_table(
            ("mentor", "status", "certified through", "coordinators", "email", "id"),
            [
                (
                    m["display_name"],
                    m["status"],
                    {None: "-", "infinity": "no end"}.get(
                        m["certified_through"], m["certified_through"]
                    ),
                    ", ".join(c["email"] or c["user_id"] for c in m["coordinators"]) or "-",
                    m["email"] or "-",
                    m["id"],
                )
                for m in o["mentors"]
            ],
        )
        certifications = format_table(
            ("mentor", "from", "until", "name", "certification id"),
            [
                (
                    m["display_name"],
                    c["valid_from"],
                    c["valid_until"] or "no end",
                    c["name"],
                    c["id"],
                )
                for m in o["mentors"]
                for c in m["certifications"]
            ],
        )
        parts.append(
            f"{o['name']} ({o['id']}), {o['time_zone']}, today {o['today']}\n"
            f"staff\n{staff_table}\n\nmentors\n{mentors}\n\ncertifications\n{certifications}"
        )
    return "\n\n".join(parts)


@roster.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    help="The file's format. Default: from its extension.",
)
@click.option(
    "--create-users",
    is_flag=True,
    help="Development only: create local auth.users rows for emails nobody has "
    "(refused when Supabase Auth owns auth.users).",
)
@click.option("--dry-run", is_flag=True, help="Report what each row would do; change nothing.")
@roster_command
def import_(target: Target, file: Path, fmt: str | None, create_users: bool, dry_run: bool) -> None:
    """Create or update a whole roster from a CSV or JSON file (docs/roster-import.md).

    Idempotent: each row is found by its natural key and created, updated or left
    unchanged. A malformed row and nothing is applied (exit 2); a row refused by what the
    database holds is reported with its code and changes nothing, the others apply (exit 3).
    """
    prepared = prepare(file, fmt)  # checked before any database is needed
    url = "" if prepared.invalid else target.url
    report = apply(prepared, url, create_users=create_users, dry_run=dry_run)
    if target.as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for row in report.rows:
            click.echo(row.line())
        click.echo(report.summary())
    if report.invalid:
        raise SystemExit(exit_codes.USAGE)
    if report.refused:
        raise SystemExit(exit_codes.REFUSED)
