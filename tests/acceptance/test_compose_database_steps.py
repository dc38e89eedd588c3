"""The compose stack's database steps, run without Docker on a server like the stack's.

The server preloads pg_cron with cron.database_name = 'postgres', as supabase/postgres
does. The steps are the stack's own: db/docker/99-pyproj-rpc.sql through psql (the
database's first start), then the `migrate` service's command read from
docker-compose.yml. Afterwards every service of the stack logs in with its own password,
and the sweeps are scheduled in pg_cron.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import yaml

from pyproj_rpc import migrations
from pyproj_rpc.localdb import LocalCluster

ROOT = Path(__file__).resolve().parents[2]
INIT_FILE = ROOT / "db/docker/99-pyproj-rpc.sql"

pytestmark = pytest.mark.slow


def unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalCluster]:
    cluster = LocalCluster(
        settings={
            "fsync": "off",
            "shared_preload_libraries": "pg_cron",
            "cron.database_name": "postgres",
        }
    )
    major = cluster.binaries.major_version
    shares = (
        cluster.binaries.bindir.parent / "share" / "extension",
        Path(f"/usr/share/postgresql/{major}/extension"),
    )
    if not any((share / "pg_cron.control").exists() for share in shares):
        unavailable(f"pg_cron is not installed for PostgreSQL {major} (CI installs it)")
    if not (cluster.binaries.bindir / "psql").exists():
        unavailable(f"no psql next to {cluster.binaries.bindir}/postgres")
    with cluster:
        with psycopg.connect(cluster.info.socket_url(), autocommit=True) as conn:
            migrations.apply_supabase_compat(conn)  # supabase/postgres has these roles
        yield cluster


def tcp_url(cluster: LocalCluster, login: str, password: str) -> str:
    return f"postgresql://{login}:{quote(password, safe='')}@127.0.0.1:{cluster.info.port}/postgres"


def run_init_file(
    cluster: LocalCluster, authenticator_password: str
) -> subprocess.CompletedProcess[str]:
    """The database's first start: psql runs the file, as supabase/postgres's init does."""
    return subprocess.run(
        [
            str(cluster.binaries.bindir / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--dbname",
            cluster.info.socket_url(),
            "--file",
            str(INIT_FILE),
        ],
        env={**os.environ, "AUTHENTICATOR_PASSWORD": authenticator_password},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def migrate_command() -> list[str]:
    migrate = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["migrate"]
    command: list[str] = [*migrate["entrypoint"], *migrate["command"]]
    return command


def test_the_stack_s_steps_leave_each_service_able_to_log_in_and_the_sweeps_scheduled(
    server: LocalCluster,
) -> None:
    passwords = {name: secrets.token_hex(24) for name in ("authenticator", "api", "relay")}
    init = run_init_file(server, passwords["authenticator"])
    assert init.returncode == 0, init.stderr

    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": tcp_url(server, "postgres", server.info.password),
        "PYPROJ_API_DB_PASSWORD": passwords["api"],
        "PYPROJ_RELAY_DB_PASSWORD": passwords["relay"],
    }
    assert shutil.which("pyproj-rpc", path=env["PATH"]) is not None
    for attempt in ("first start", "restart"):  # every step is idempotent
        migrate = subprocess.run(
            migrate_command(), env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert migrate.returncode == 0, f"{attempt}: {migrate.stdout}{migrate.stderr}"
    assert "login pyproj_api" in migrate.stdout
    assert "pyproj-rpc-expire-certifications" in migrate.stdout

    for login, password in (
        ("authenticator", passwords["authenticator"]),
        ("pyproj_api", passwords["api"]),
        ("pyproj_relay", passwords["relay"]),
    ):
        with psycopg.connect(tcp_url(server, login, password)) as conn:
            assert conn.execute("select current_user").fetchone() == (login,)
    with psycopg.connect(server.info.socket_url()) as conn:
        jobs = [row[0] for row in conn.execute("select jobname from cron.job order by 1")]
    assert jobs == [
        "pyproj-rpc-expire-certifications",
        "pyproj-rpc-purge-idempotency-keys",
        "pyproj-rpc-remind-overdue",
    ]


def test_the_first_start_refuses_an_empty_authenticator_password(server: LocalCluster) -> None:
    init = run_init_file(server, "")
    assert init.returncode != 0
    assert "AUTHENTICATOR_PASSWORD is empty: set it in .env" in init.stderr
