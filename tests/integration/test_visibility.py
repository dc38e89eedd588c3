"""Reads follow RLS: a mentor sees themselves, a coordinator their mentors, an admin all."""

from __future__ import annotations

import pytest
from psycopg import sql

from pyproj_rpc.identity import Identity, postgrest_request
from tests.support import World, call

TABLES = ("mentors", "pause_periods", "status_events", "certifications")


def visible(world: World, identity: Identity, table: str) -> set[str]:
    statement = sql.SQL("select {}::text as id from mentoring.{}").format(
        sql.Identifier("id" if table == "mentors" else "mentor_id"), sql.Identifier(table)
    )
    with postgrest_request(world.conn, identity, method="GET") as cur:
        rows = cur.execute(statement).fetchall()
    return {row["id"] for row in rows}


@pytest.mark.parametrize("table", TABLES)
def test_each_caller_sees_exactly_their_mentors_rows(world: World, table: str) -> None:
    org, elsewhere = world.organization(), world.organization()
    coordinator = org.coordinator()
    mine = org.mentor(coordinators=(coordinator,))
    other = org.mentor()
    foreign = elsewhere.mentor()
    for mentor in (mine, other, foreign):
        call(world.conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")

    ids = {m: str(m.id) for m in (mine, other, foreign)}
    assert visible(world, mine.identity, table) == {ids[mine]}
    assert visible(world, coordinator, table) == {ids[mine]}
    assert visible(world, org.admin, table) == {ids[mine], ids[other]}
    assert visible(world, elsewhere.admin, table) == {ids[foreign]}
    assert visible(world, Identity.service(), table) == set(ids.values())


def test_an_organization_is_visible_to_its_members_only(world: World) -> None:
    org, elsewhere = world.organization(), world.organization()
    mentor = org.mentor()
    for identity, expected in ((mentor.identity, {org.id}), (elsewhere.admin, {elsewhere.id})):
        with postgrest_request(world.conn, identity, method="GET") as cur:
            seen = {row["id"] for row in cur.execute("select id from mentoring.organizations")}
        assert seen == expected


def test_assignments_are_visible_exactly_with_their_mentor(world: World) -> None:
    org, elsewhere = world.organization(), world.organization()
    coordinator, colleague = org.coordinator(), org.coordinator()
    shared = org.mentor(coordinators=(coordinator, colleague))
    theirs = org.mentor(coordinators=(colleague,))
    elsewhere.mentor(coordinators=(elsewhere.coordinator(),))

    def assignments(identity: Identity) -> set[tuple[str, str]]:
        with postgrest_request(world.conn, identity, method="GET") as cur:
            rows = cur.execute(
                "select mentor_id::text as m, coordinator_id::text as c"
                " from mentoring.mentor_coordinators"
            ).fetchall()
        return {(row["m"], row["c"]) for row in rows}

    both_of_shared = {
        (str(shared.id), str(coordinator.user_id)),
        (str(shared.id), str(colleague.user_id)),
    }
    theirs_row = (str(theirs.id), str(colleague.user_id))
    assert assignments(coordinator) == both_of_shared
    assert assignments(colleague) == both_of_shared | {theirs_row}
    assert assignments(shared.identity) == both_of_shared
    assert assignments(org.admin) == both_of_shared | {theirs_row}
    assert assignments(theirs.identity) == {theirs_row}
