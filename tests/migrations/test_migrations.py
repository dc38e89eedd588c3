"""Migrations: pinned by checksum, reversible, and reviewable as offline SQL."""

from __future__ import annotations

import subprocess

import psycopg
import pytest
from alembic.script import ScriptDirectory

from pyproj_rpc import audit, migrations
from pyproj_rpc.errors import LandedMigrationChanged, MigrationError
from pyproj_rpc.localdb import ConnectionInfo, LocalCluster
from tests.audit_support import build_history
from tests.conftest import Database
from tests.support import World, call

OUR_SCHEMAS = ("mentoring", "api")


def revisions() -> list[migrations.SqlRevision]:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    return [rev.module.sql for rev in script.walk_revisions()]


def schema_dump(cluster: LocalCluster, database: Database) -> str:
    out = subprocess.run(
        [
            str(cluster.binaries.tool("pg_dump")),
            "--schema-only",
            "--exclude-schema=pyproj_rpc",
            database.url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pg_dump >= 17.6 wraps its output in \restrict lines with a random key.
    return "\n".join(line for line in out.splitlines() if not line.startswith("\\"))


def our_schemas(database: Database) -> list[str]:
    with database.connect() as conn:
        rows = conn.execute(
            "select nspname from pg_namespace where nspname = any(%s) order by 1",
            (list(OUR_SCHEMAS),),
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("revision", revisions(), ids=lambda r: r.name)
def test_every_landed_revision_still_matches_its_recorded_checksum(
    revision: migrations.SqlRevision,
) -> None:
    revision.verify()


def test_an_edited_landed_revision_refuses_to_run() -> None:
    tampered = migrations.SqlRevision(revisions()[-1].name, sha256="0" * 64)
    with pytest.raises(LandedMigrationChanged, match="write a new revision"):
        tampered.upgrade()


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it_identically(
    pg_cluster: LocalCluster, isolated_db: Database
) -> None:
    at_head = schema_dump(pg_cluster, isolated_db)
    migrations.downgrade(isolated_db.url, "base")
    assert our_schemas(isolated_db) == []
    assert migrations.current(isolated_db.url).strip() == ""
    migrations.upgrade(isolated_db.url)
    assert schema_dump(pg_cluster, isolated_db) == at_head


def test_each_revision_steps_down_and_back_up_cleanly(
    pg_cluster: LocalCluster, isolated_db: Database
) -> None:
    for revision in revisions():  # newest first
        before = schema_dump(pg_cluster, isolated_db)
        migrations.downgrade(isolated_db.url, "-1")
        migrations.upgrade(isolated_db.url, "+1")
        assert schema_dump(pg_cluster, isolated_db) == before, revision.name
        migrations.downgrade(isolated_db.url, "-1")


def test_the_offline_sql_builds_the_same_schema_as_online_migrations(
    pg_cluster: LocalCluster, template_db: Database, empty_db: Database
) -> None:
    script = migrations.offline_sql()
    for revision in revisions():
        for path in revision.up_files():
            assert path.read_text().strip() in script, path
    with empty_db.connect(autocommit=True) as conn:
        conn.execute(script.encode())
    assert migrations.current(empty_db.url).strip() == f"{migrations.head_revision()} (head)"
    assert schema_dump(pg_cluster, empty_db) == schema_dump(pg_cluster, template_db)


def test_the_offline_downgrade_sql_empties_a_migrated_database(isolated_db: Database) -> None:
    script = migrations.offline_downgrade_sql(migrations.head_revision(), "base")
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute(script.encode())
    assert our_schemas(isolated_db) == []


def test_migrations_set_lock_and_statement_timeouts() -> None:
    preamble = migrations.offline_sql().split("BEGIN;", 1)[0]
    assert "SET lock_timeout = '5s';" in preamble
    assert "SET statement_timeout = '15min';" in preamble


def test_a_failing_migration_names_its_file_and_applies_nothing(empty_db: Database) -> None:
    with empty_db.connect(autocommit=True) as conn:
        conn.execute("create schema api")  # 0001 creates it: it will fail half-way
    with pytest.raises(migrations.MigrationError, match=r"01_schemas\.sql.*already exists"):
        migrations.upgrade(empty_db.url)
    assert migrations.current(empty_db.url).strip() == ""
    assert our_schemas(empty_db) == ["api"]


def test_migrations_run_and_work_for_an_owner_who_is_not_a_superuser(
    pg_server: ConnectionInfo, empty_db: Database
) -> None:
    """As on Supabase, where postgres owns our objects but is not a superuser."""
    owner = f"owner_{empty_db.name}"
    with psycopg.connect(pg_server.socket_url(empty_db.name), autocommit=True) as admin:
        admin.execute(f"create role {owner} login nosuperuser createrole bypassrls")
        admin.execute(f"grant create on database {empty_db.name} to {owner}")
        admin.execute(f"grant anon, authenticated, service_role to {owner}")
        admin.execute(f"grant all on auth.users to {owner}")
    url = f"postgresql://{owner}@/{empty_db.name}?host={pg_server.socket_dir}&port={pg_server.port}"
    try:
        migrations.upgrade(url)
        with psycopg.connect(url) as conn:
            world = World(conn)
            org = world.organization()
            mentor = org.mentor(certified=False)
            call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="x")
            conn.execute(
                "update mentoring.mentors set status = 'expired_cert' where id = %s", (mentor.id,)
            )
            events = world.events(mentor)
            conn.commit()
        assert [(e["actor_kind"], e["database_role"]) for e in events] == [
            ("mentor", "authenticated"),
            ("system", owner),
        ]
        migrations.downgrade(url, "base")
        assert our_schemas(empty_db) == []
    finally:
        with psycopg.connect(pg_server.socket_url(empty_db.name), autocommit=True) as admin:
            admin.execute(f"drop owned by {owner} cascade")
        with psycopg.connect(pg_server.socket_url(), autocommit=True) as admin:
            admin.execute(f"drop role {owner}")


# -- revision 0008: lint fixes that change no contract ------------------------------------

LINT_CLEAN_FUNCTIONS = ("mentoring.pause_findings(uuid)",)


def function_contracts(database: Database) -> list[tuple[object, ...]]:
    """What a caller or an auditor of these functions relies on, besides the body."""
    with database.connect() as conn:
        return conn.execute(
            "select p.oid::regprocedure::text, pg_get_function_result(p.oid),"
            " pg_get_userbyid(p.proowner), p.proacl::text[], p.proconfig, p.prosecdef,"
            " p.provolatile, p.proleakproof, p.proisstrict"
            " from unnest(%s::text[]) f join pg_proc p on p.oid = to_regprocedure(f)"
            " order by 1",
            (list(LINT_CLEAN_FUNCTIONS),),
        ).fetchall()


def test_the_lint_clean_revision_keeps_signatures_owners_grants_and_search_paths(
    isolated_db: Database,
) -> None:
    migrations.downgrade(isolated_db.url, "0008")
    fixed = function_contracts(isolated_db)
    with isolated_db.connect() as conn:
        no_findings = conn.execute("select mentoring.pause_findings(gen_random_uuid())").fetchone()
    migrations.downgrade(isolated_db.url, "0007")
    assert len(fixed) == len(LINT_CLEAN_FUNCTIONS)
    assert function_contracts(isolated_db) == fixed
    assert no_findings == ([],)


# -- revision 0009: the audit chain -------------------------------------------------------


def event_hashes(database: Database) -> list[tuple[object, ...]]:
    with database.connect() as conn:
        return conn.execute(
            "select id, prev_hash, hash from mentoring.status_events order by id"
        ).fetchall()


def test_existing_events_are_chained_exactly_as_the_state_machine_chains_new_ones(
    isolated_db: Database,
) -> None:
    build_history(isolated_db)
    written = event_hashes(isolated_db)
    migrations.downgrade(isolated_db.url, "0008")
    with isolated_db.connect() as conn:
        columns = conn.execute(
            "select count(*) from information_schema.columns where table_schema = 'mentoring'"
            " and table_name = 'status_events' and column_name in ('hash', 'prev_hash')"
        ).fetchone()
    assert columns == (0,)
    migrations.upgrade(isolated_db.url)
    assert event_hashes(isolated_db) == written
    with isolated_db.connect(autocommit=True) as conn:
        assert audit.verify(conn).problems == ()


def test_a_trail_with_missing_events_is_not_chained_over(isolated_db: Database) -> None:
    history = build_history(isolated_db)
    migrations.downgrade(isolated_db.url, "0008")
    with isolated_db.connect() as conn:
        conn.execute("set local session_replication_role = replica")
        conn.execute(
            "delete from mentoring.status_events where mentor_id = %s and sequence = 2",
            (history.paused.id,),
        )
        conn.commit()
    with pytest.raises(MigrationError, match="not numbered 1, 2, 3"):
        migrations.upgrade(isolated_db.url)
    assert migrations.current(isolated_db.url).strip() == "0008"
