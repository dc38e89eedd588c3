"""The sweeps from the command line, the one-sweeper lock, and pg_cron."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from pyproj_rpc import scheduler
from pyproj_rpc.cli import exit_codes, main
from pyproj_rpc.localdb import LocalCluster
from pyproj_rpc.localdb.binaries import has_extension
from pyproj_rpc.provision import bootstrap_and_upgrade
from tests.conftest import Database
from tests.support import World, behind_the_state_machine, call, eventually


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def backlog(isolated_db: Database) -> Database:
    """Three lapsed mentors, one certified, and one pause three days overdue."""
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        for _ in range(3):
            org.mentor(certified=False)
        mentor = org.mentor(coordinators=(coordinator,))
        today = world.today(org.id)
        call(
            conn,
            coordinator,
            "activate_pause",
            mentor_id=mentor.id,
            reason="leave",
            expected_return_date=today + timedelta(days=1),
        )
        behind_the_state_machine(
            conn,
            "update mentoring.pause_periods set start_date = start_date - 4,"
            " expected_return_date = expected_return_date - 4",
        )
        conn.commit()
    return isolated_db


def test_expire_certifications_expires_every_lapsed_mentor_in_small_batches(
    backlog: Database,
) -> None:
    result = run("expire-certifications", "--batch-size", "2", "--database-url", backlog.url)
    assert result.exit_code == 0, result.stderr
    assert "expired 3 mentor(s)" in result.stdout
    again = run("expire-certifications", "--database-url", backlog.url)
    assert "expired 0 mentor(s)" in again.stdout


def test_remind_overdue_reminds_once(backlog: Database) -> None:
    assert (
        "reminded about 1 pause(s)" in run("remind-overdue", "--database-url", backlog.url).stdout
    )
    assert (
        "reminded about 0 pause(s)" in run("remind-overdue", "--database-url", backlog.url).stdout
    )


def test_only_one_instance_sweeps_at_a_time(backlog: Database) -> None:
    holder = uuid.uuid4()
    with backlog.connect(autocommit=True) as another, backlog.connect() as conn:
        another.execute("select mentoring.take_sweeper_lease(%s, '1 hour')", (holder,))
        assert scheduler.sweep_once(conn) == scheduler.SweepReport(ran=False)
        another.execute("select mentoring.release_sweeper_lease(%s)", (holder,))
        report = scheduler.sweep_once(conn)
    assert (report.ran, report.expired, report.reminded) == (True, 3, 1)


def test_schedule_without_pg_cron_says_so_and_what_to_do_instead(isolated_db: Database) -> None:
    result = run("schedule", "status", "--database-url", isolated_db.url)
    assert result.exit_code == exit_codes.USAGE
    assert "pg_cron" in result.stderr
    assert "create extension pg_cron" in result.stderr or "relay --schedule" in result.stderr


# -- pg_cron, for real: a server with pg_cron preloaded ---------------------------------

CRON_DB = "pyproj_cron"


@pytest.fixture
def cron_cluster(tmp_path: Path) -> Iterator[str]:
    cluster = LocalCluster(
        settings={
            "fsync": "off",
            "shared_preload_libraries": "pg_cron",
            "cron.database_name": CRON_DB,
            "cron.use_background_workers": "on",
            "max_worker_processes": "16",
        }
    )
    if not has_extension(cluster.binaries, "pg_cron"):
        message = (
            f"pg_cron is not installed for PostgreSQL {cluster.binaries.major_version}"
            " (CI installs postgresql-<major>-cron)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster.start()
    try:
        with psycopg.connect(cluster.info.socket_url(), autocommit=True) as conn:
            conn.execute(f"create database {CRON_DB}")
        url = cluster.info.socket_url(CRON_DB)
        bootstrap_and_upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create extension pg_cron")
        yield url
    finally:
        cluster.stop()


def test_schedule_install_creates_the_jobs_and_pg_cron_runs_the_sweep(cron_cluster: str) -> None:
    url = cron_cluster
    with psycopg.connect(url) as conn:
        mentor = World(conn).organization().mentor(certified=False)
        conn.commit()

    installed = run("schedule", "install", "--expiry", "* * * * *", "--json", "--database-url", url)
    assert installed.exit_code == 0, installed.stderr
    jobs = {job["name"]: job for job in json.loads(installed.stdout)}
    assert set(jobs) == {
        "pyproj-rpc-expire-certifications",
        "pyproj-rpc-remind-overdue",
        "pyproj-rpc-purge-idempotency-keys",
    }
    assert jobs["pyproj-rpc-expire-certifications"]["schedule"] == "* * * * *"

    def expired() -> bool:
        with psycopg.connect(url) as conn:
            return World(conn).status(mentor) == "expired_cert"

    eventually(expired, "pg_cron to run the expiry sweep", timeout=100)
    status = json.loads(run("schedule", "status", "--json", "--database-url", url).stdout)
    [expiry] = [job for job in status if job["name"] == "pyproj-rpc-expire-certifications"]
    assert expiry["last_status"] == "succeeded"
    with psycopg.connect(url) as conn:
        [event] = World(conn).events(mentor)
    assert (event["actor_kind"], event["reason"]) == ("system", "certification lapsed")

    assert "removed 3 job(s)" in run("schedule", "remove", "--database-url", url).stdout
    assert "no pyproj-rpc jobs" in run("schedule", "status", "--database-url", url).stdout


PLANTED_LIKE = (
    "grant create on schema public to authenticated",
    "create table public.planted_calls (called_as text)",
    "grant insert on public.planted_calls to public",
    "set role authenticated",
    """create function public.planted_name_like(a name, b name) returns boolean
    language plpgsql as $$
    begin
      insert into public.planted_calls values (current_user);
      return a::text like b::text;
    end
    $$""",
    "create operator public.~~"
    " (leftarg = name, rightarg = name, function = public.planted_name_like)",
    "reset role",
)


def test_schedule_commands_use_no_operator_another_role_planted_in_public(
    cron_cluster: str,
) -> None:
    # For `jobname like 'pyproj-rpc-%'` (a name column), an exact ~~(name, name) in public
    # beats pg_catalog's text operator when the search path is the login's.
    url = cron_cluster
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in PLANTED_LIKE:
            conn.execute(statement)
        conn.execute("select 'a'::name like 'a'::name")  # the plant works
        assert conn.execute("select count(*) from public.planted_calls").fetchone() == (1,)
        conn.execute("truncate public.planted_calls")
    for args in (("install",), ("status",), ("remove",)):
        result = run("schedule", *args, "--database-url", url)
        assert result.exit_code == 0, result.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from public.planted_calls").fetchone() == (0,)


def test_the_sweeps_run_for_a_login_that_may_only_switch_to_service_role(
    backlog: Database,
) -> None:
    login = f"scheduler_{backlog.name}"
    with psycopg.connect(backlog.url, autocommit=True) as admin:
        admin.execute(f"create role {login} login noinherit")
        admin.execute(f"grant service_role to {login}")
    try:
        url = backlog.url.replace("postgresql://postgres@", f"postgresql://{login}@")
        result = run("expire-certifications", "--database-url", url)
        assert result.exit_code == 0, result.stderr
        assert "expired 3 mentor(s)" in result.stdout
        assert "reminded about 1 pause(s)" in run("remind-overdue", "--database-url", url).stdout
    finally:
        with psycopg.connect(backlog.url, autocommit=True) as admin:
            admin.execute(f"drop role {login}")
