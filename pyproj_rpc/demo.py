"""The demo: a small organization and a scenario, narrated step by step.

It seeds an organization (an admin, two coordinators, four mentors, one of whom has a
lapsed certification), then acts through the typed client exactly as the people would
through Supabase: a self-pause, a coordinator's pause with a return date, a refused
attempt by a mentor to end a pause they did not start, a lift, and the scheduler's
certification expiry. Every step shows who was notified; then a relay delivers the
notifications (:func:`deliver_through_relay`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from pyproj_rpc.api_errors import PauseManagementError
from pyproj_rpc.client import PauseManagementClient
from pyproj_rpc.errors import PyprojRpcError
from pyproj_rpc.identity import Identity
from pyproj_rpc.models import TransitionResult
from pyproj_rpc.queries import query
from pyproj_rpc.relay import FunctionSink, OutboxMessage, Relay, RelayConfig
from pyproj_rpc.relay.store import OutboxStats
from pyproj_rpc.seed import Seeder
from pyproj_rpc.text import format_table

SECRET_ENV = ("PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET")
API_PREFIX = "/api/v1/pause-management"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    user_id: UUID

    @property
    def identity(self) -> Identity:
        return Identity.user(self.user_id, self.email)


@dataclass(frozen=True)
class Cast:
    organization_id: UUID
    admin: Person
    casey: Person
    jordan: Person
    mentors: dict[str, tuple[Person, UUID]]  # name -> (person, mentor id)

    def mentor(self, name: str) -> UUID:
        return self.mentors[name][1]

    def person(self, name: str) -> Person:
        return self.mentors[name][0]

    def names(self) -> dict[UUID, str]:
        """Everyone's name by user id."""
        people = [self.admin, self.casey, self.jordan] + [p for p, _ in self.mentors.values()]
        return {person.user_id: person.name for person in people}


class DemoFailed(PyprojRpcError):
    """A step of the demo did not turn out as the rules say it must."""


def seed(conn: psycopg.Connection[Any]) -> Cast:
    """Write the demo organization (fresh names each run, so the demo can run again)."""
    tag = secrets.token_hex(3)
    seeder = Seeder(conn)
    org = seeder.organization(f"Harbor Peer Mentors {tag}", "America/Chicago")

    def person(name: str) -> Person:
        email = f"{name.lower()}.{tag}@harbor.example"
        return Person(name, email, seeder.user(email))

    admin, casey, jordan = person("Alex"), person("Casey"), person("Jordan")
    seeder.staff(org, admin.user_id, "admin")
    seeder.staff(org, casey.user_id, "coordinator")
    seeder.staff(org, jordan.user_id, "coordinator")
    mentors: dict[str, tuple[Person, UUID]] = {}
    for name, coordinators, certified in (
        ("Ada", (casey,), True),
        ("Ben", (casey, jordan), True),
        ("Chloe", (jordan,), True),
        ("Dan", (casey,), False),
    ):
        someone = person(name)
        mentor_id = seeder.mentor(org, name, user_id=someone.user_id, certified=certified)
        for coordinator in coordinators:
            seeder.assign(mentor_id, coordinator.user_id)
        mentors[name] = (someone, mentor_id)
    conn.commit()
    return Cast(org, admin, casey, jordan, mentors)


def run(url: str, say: Say) -> Cast:
    """Seed the demo organization in ``url`` (at head) and narrate the scenario."""
    with psycopg.connect(url) as conn, psycopg.connect(url, autocommit=True) as reader:
        # both write or read as the owner: names resolve in pg_catalog first
        for session in (conn, reader):
            session.execute(query("pin_search_path_for_session"))
        conn.commit()  # a SET rolled back would be undone
        cast = seed(conn)
        today = Seeder(reader).today(cast.organization_id)
        # Each call is its own committed transaction, as through PostgREST.
        client = PauseManagementClient(conn, identity=cast.admin.identity)

        def notified(result: TransitionResult) -> str:
            if result.event is None:
                return "nobody"
            rows = reader.execute(
                query("demo_recipients"),
                {"mentor_id": result.mentor_id, "sequence": result.event.sequence},
            )
            return ", ".join(row[0] for row in rows) or "nobody"

        def step(number: int, title: str, action: Callable[[], TransitionResult]) -> None:
            say(f"\n{number}. {title}")
            result = action()
            say(f"   ok: {result.previous_status} -> {result.status}; notified: {notified(result)}")

        say(f"Organization {cast.organization_id}: admin Alex, coordinators Casey and Jordan;")
        say(
            "mentors Ada (Casey), Ben (Casey, Jordan), Chloe (Jordan), Dan (Casey, certification"
            " lapsed)."
        )

        ada, ben, dan = cast.mentor("Ada"), cast.mentor("Ben"), cast.mentor("Dan")
        step(
            1,
            "Ada pauses herself for exam week.",
            lambda: client.as_identity(cast.person("Ada").identity).activate_pause(
                ada, "Exam week"
            ),
        )
        back = today + timedelta(days=14)
        step(
            2,
            f"Casey pauses Ben until {back} (family leave).",
            lambda: client.as_identity(cast.casey.identity).activate_pause(
                ben, "Family leave", expected_return_date=back
            ),
        )

        say("\n3. Ben tries to end the pause Casey started.")
        try:
            client.as_identity(cast.person("Ben").identity).lift_pause(ben, "I'm back early")
        except PauseManagementError as refused:
            say(
                f"   refused, as the rules say: {refused.code} ({refused.http_status}):"
                f" {refused.message}"
            )
        else:
            raise DemoFailed("a mentor ended a pause a coordinator started")

        step(
            4,
            "Casey lifts Ben's pause.",
            lambda: client.as_identity(cast.casey.identity).lift_pause(ben, "Back early"),
        )
        step(
            5,
            "The scheduler (service_role) expires Dan, whose certification lapsed.",
            lambda: client.as_identity(Identity.service()).auto_expire_for_certification(dan),
        )

        say("\nStatuses now (as Alex, the admin):")
        rows = []
        for name in cast.mentors:
            current = client.get_current_status(cast.mentor(name))
            rows.append(
                (
                    name,
                    current.status,
                    current.certification.valid_until
                    if current.certification.certified
                    else "lapsed",
                    ", ".join(current.allowed_transitions) or "-",
                )
            )
        say(format_table(("mentor", "status", "certified until", "Alex may move to"), rows))

        say("\nBen's history (as Casey):")
        history = client.as_identity(cast.casey.identity).get_pause_history(ben)
        say(
            format_table(
                ("#", "from", "to", "by", "reason"),
                [
                    (e.sequence, e.from_status, e.to_status, e.actor_kind, e.reason)
                    for e in history.events
                ],
            )
        )

        say("\nNotifications written to the outbox (the relay delivers them):")
        notifications = reader.execute(
            query("demo_notifications"), {"organization_id": cast.organization_id}
        ).fetchall()
        say(
            format_table(
                ("#", "to", "kind", "mentor", "from", "to status", "by", "reason"), notifications
            )
        )
        conn.commit()
    return cast


def deliver_through_relay(url: str, cast: Cast, say: Say) -> int:
    """Run a relay in this process until nothing is due, saying each notification it delivers.

    Skipped when the database holds pending notifications of other organizations: those
    belong to a real relay and its receivers, not to the demo's printout.
    """
    with psycopg.connect(url, autocommit=True) as reader:
        row = reader.execute(
            query("outbox_pending_outside_organization"),
            {"organization_id": cast.organization_id},
        ).fetchone()
    others = row[0] if row else 0
    if others:
        say(
            f"\nNo in-process relay: {others} other pending notification(s) in this database"
            " are for a real relay (`pyproj-rpc relay --webhook-url ...`)."
        )
        return 0
    say("\nThe relay delivers them (here in-process; `pyproj-rpc relay` in production):")
    names = cast.names()

    def show(message: OutboxMessage) -> None:
        data = message.payload
        change = (
            f"{data['from_status']} -> {data['to_status']}" if "to_status" in data else message.kind
        )
        say(
            f"   {message.webhook_id} -> {names.get(message.recipient_id, 'someone')}:"
            f" {data['mentor']['display_name']} {change} (sequence {data['sequence']})"
        )

    config = RelayConfig(database_url=url, concurrency=1, retention=None)
    summary = Relay(config, [FunctionSink(show, name="demo")]).run(once=True)
    with psycopg.connect(url, row_factory=dict_row) as stats_reader:
        stats_row = stats_reader.execute(query("outbox_stats")).fetchone()
    assert stats_row is not None
    stats = OutboxStats.from_row(stats_row)
    say(
        f"   delivered {summary.delivered}; the outbox now holds {stats.pending} pending,"
        f" {stats.delivered} delivered, {stats.dead} dead-lettered"
    )
    return summary.delivered


def explore_commands(cast: Cast) -> list[str]:
    """Commands to look further, acting as the demo's people: the CLI, then the REST API
    with a development token per person (labelled with their names)."""
    casey, ada = cast.casey.user_id, cast.mentor("Ada")
    return [
        f"pyproj-rpc mentor status {ada} --as {casey}",
        f"pyproj-rpc mentor history {cast.mentor('Ben')} --as {casey} --json",
        f"pyproj-rpc mentor paused --as {casey}",
        f"pyproj-rpc mentor lift {ada} --as {cast.person('Ada').user_id} --reason 'Exams done'",
        f"pyproj-rpc mentor expire {cast.mentor('Chloe')} --service   # refused: still certified",
        "pyproj-rpc transitions --format mermaid",
        "pyproj-rpc outbox status",
        "pyproj-rpc outbox list --state all",
        "pyproj-rpc roster list   # the organization, its staff, mentors and certifications",
        *api_commands(cast),
    ]


def api_commands(cast: Cast, port: int = 8000) -> list[str]:
    """The REST API as the demo's people: a token each, then curl calls with real ids."""
    secret_set = any(os.environ.get(name) for name in SECRET_ENV)
    base = f"http://127.0.0.1:{port}{API_PREFIX}"
    back = date.today() + timedelta(days=14)
    people = [
        ("ALEX", cast.admin, "Alex, admin"),
        ("CASEY", cast.casey, "Casey, coordinator of Ada, Ben and Dan"),
        ("JORDAN", cast.jordan, "Jordan, coordinator of Ben and Chloe"),
        ("ADA", cast.person("Ada"), "Ada, mentor"),
    ]
    lines = ["# The REST API, as the demo's people (api and token share the secret):"]
    if not secret_set:
        lines.append(f"export PYPROJ_JWT_SECRET='dev-only-{secrets.token_hex(16)}'")
    lines.append(f"pyproj-rpc api --port {port} & sleep 3")
    lines += [
        f"{var}_TOKEN=$(pyproj-rpc token --as {person.user_id} --email {person.email})   # {label}"
        for var, person, label in people
    ]
    chloe, ada = cast.mentor("Chloe"), cast.mentor("Ada")
    lines += [
        f'curl -s -w "\\n" {base}/{ada}/status -H "Authorization: Bearer $CASEY_TOKEN"'
        "   # Ada's status, as Casey",
        f'curl -s -w "\\n" -X POST {base}/{chloe}/activate -H "Authorization: Bearer $JORDAN_TOKEN"'
        " -H 'Content-Type: application/json'"
        f' -d \'{{"reason": "Conference week", "expectedReturnDate": "{back}"}}\''
        "   # Jordan pauses Chloe",
        f'curl -s -w "\\n" {base}/paused -H "Authorization: Bearer $JORDAN_TOKEN"'
        "   # Jordan's paused mentors",
        f'curl -s -w "\\n" -X POST {base}/{chloe}/lift -H "Authorization: Bearer $ADA_TOKEN"'
        " -H 'Content-Type: application/json' -d '{}'   # refused (404): Ada may not see Chloe",
        "kill %1   # stops the api",
    ]
    return lines
