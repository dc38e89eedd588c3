"""db/schema.sql is the schema the migrations build; CI fails when the two disagree."""

from __future__ import annotations

import os

import pytest

from pyproj_rpc import migrations, schemafile
from pyproj_rpc.localdb import LocalCluster
from tests.conftest import Database


def test_db_schema_sql_matches_the_migrations(
    pg_cluster: LocalCluster, template_db: Database
) -> None:
    path = schemafile.schema_file()
    recorded = path.read_text() if path.is_file() else ""
    major = pg_cluster.binaries.major_version
    recorded_major = schemafile.recorded_pg_dump_major(recorded)
    if recorded_major is not None and recorded_major != major:
        message = (
            f"db/schema.sql is printed by pg_dump {recorded_major}; this server is PostgreSQL "
            f"{major}, whose pg_dump prints some objects differently (CI runs {recorded_major})"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    current = schemafile.render(
        schemafile.pg_dump(pg_cluster.binaries.tool("pg_dump"), template_db.url),
        revision=migrations.head_revision(),
        pg_dump_major=major,
    )
    if recorded != current:
        pytest.fail(
            "db/schema.sql differs from what the migrations build "
            f"(regenerate it with `{schemafile.REGENERATE}` and commit it):\n"
            + schemafile.diff(recorded, current),
            pytrace=False,
        )


def test_the_schema_file_carries_nothing_that_changes_between_runs_or_machines() -> None:
    def dump(server: str, key: str) -> str:
        return (
            "--\n-- PostgreSQL database dump\n--\n\n"
            f"\\restrict {key}\n\n"
            f"-- Dumped from database version {server}\n"
            f"-- Dumped by pg_dump version {server}\n\n"
            "SET statement_timeout = 0;\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n\n"
            "--\n-- Name: api; Type: SCHEMA; Schema: -; Owner: postgres\n--\n\n"
            "CREATE SCHEMA api;\n\n\n"
            "SET default_tablespace = '';\n\n"
            "--\n-- PostgreSQL database dump complete\n--\n\n"
            f"\\unrestrict {key}\n"
        )

    first = schemafile.render(dump("15.18 (Debian)", "abc"), revision="0008", pg_dump_major=15)
    second = schemafile.render(dump("15.9", "xyz"), revision="0008", pg_dump_major=15)
    assert first == second
    assert "CREATE SCHEMA api;" in first
    for varying in ("restrict", "Dumped", "SET ", "set_config", "database dump"):
        assert varying not in first
    assert schemafile.recorded_pg_dump_major(first) == 15
    assert "revision 0008" in first
