"""What the image runs works without the source tree: the wheel, installed elsewhere.

The Dockerfile builds the wheel with the pinned hatchling (no build isolation) and
installs it with deploy/docker/constraints.txt into a virtual environment without pip.
This test does the same in a temporary directory outside the checkout (pip's cache is
reused), then, from there, migrates a new database, prints the SQL, creates the logins,
runs the relay once and asks the REST adapter for /healthz. It also proves that the
constraints pin every package the wheel brings in, and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyproj_rpc import __version__
from pyproj_rpc.localdb import ConnectionInfo
from pyproj_rpc.localdb.cluster import free_port
from tests.conftest import Database, janitor
from tests.relay_support import pause_mentors

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "deploy" / "docker" / "constraints.txt"
JWT_SECRET = "wheel-test-jwt-secret-of-at-least-32-characters"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if line.strip() and not line.startswith("#") and "==" in line:
            name, version = line.strip().split("==")
            found[canonical(name)] = version
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built and installed the way the Dockerfile does it, outside the checkout."""
    work = tmp_path_factory.mktemp("wheel-install")
    assert not work.resolve().is_relative_to(ROOT)
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [
            *pip,
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        timeout=180,
    )
    [wheel] = dist.glob(f"pyproj_rpc-{__version__}-*.whl")
    environment = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    subprocess.run(
        [
            *pip,
            "--python",
            str(environment / "bin" / "python"),
            "install",
            "--quiet",
            "--constraint",
            str(CONSTRAINTS),
            str(wheel),
        ],
        check=True,
        timeout=480,
    )
    return environment


@pytest.fixture
def elsewhere(venv: Path) -> dict[str, str]:
    """An environment that sees the installed package only, from outside the checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "DATABASE_URL", "PYPROJ_"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(venv: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "pyproj-rpc"), *args],
        cwd=venv.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def new_database(pg_server: ConnectionInfo) -> Iterator[Database]:
    """An empty database: no Supabase bootstrap, no migration."""
    name = f"pyproj_wheel_{os.getpid()}_{time.monotonic_ns()}"
    database = janitor(pg_server, name)
    database.init()
    try:
        yield Database(pg_server, name)
    finally:
        database.drop()


def test_the_constraints_pin_exactly_what_the_wheel_installs(venv: Path) -> None:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    installed = pins([line for line in frozen if not line.startswith("pyproj-rpc")])
    assert installed == pins(CONSTRAINTS.read_text().splitlines())
    assert not (venv / "bin" / "pip").exists()  # as in the image


def test_the_installed_package_runs_from_its_own_files_not_the_checkout(
    venv: Path, elsewhere: dict[str, str]
) -> None:
    assert run(venv, elsewhere, "--version").stdout.strip() == f"pyproj-rpc, version {__version__}"
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import pyproj_rpc, pyproj_rpc.resources as r; print(pyproj_rpc.__file__);"
            " print(r.resource_dir('db')); print(r.resource_dir('alembic'))",
        ],
        cwd=venv.parent,
        env=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for path in where:
        assert Path(path).is_relative_to(venv), path
        assert not Path(path).is_relative_to(ROOT), path
    assert where[1].endswith("pyproj_rpc/_resources/db")
    sql = run(venv, elsewhere, "db", "sql")
    assert sql.returncode == 0, sql.stderr
    assert "-- db/migrations/0001_schemas/up/01_schemas.sql" in sql.stdout
    assert "create schema" in sql.stdout.lower()


def test_the_installed_package_migrates_creates_logins_relays_and_serves(
    venv: Path, elsewhere: dict[str, str], new_database: Database
) -> None:
    env = {**elsewhere, "DATABASE_URL": new_database.url}
    upgraded = run(venv, env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "at revision:" in upgraded.stdout

    suffix = new_database.name.removeprefix("pyproj_")
    logins = run(
        venv,
        {
            **env,
            "PYPROJ_API_DB_PASSWORD": "9f2c4e1a7b3d8c6e0a5f",
            "PYPROJ_RELAY_DB_PASSWORD": "4b8e1d9c2a7f3e6b0c5d",
        },
        "db",
        "logins",
        "--api-login",
        f"api_{suffix}",
        "--relay-login",
        f"relay_{suffix}",
    )
    try:
        assert logins.returncode == 0, logins.stderr
        assert f"created login relay_{suffix}" in logins.stdout
    finally:
        with new_database.connect(autocommit=True) as admin:
            admin.execute(f"drop role if exists api_{suffix}")
            admin.execute(f"drop role if exists relay_{suffix}")

    [outbox_id] = pause_mentors(new_database.url, 1)
    relayed = run(venv, env, "relay", "--once", "--stdout", "--retention", "off")
    assert relayed.returncode == 0, relayed.stderr
    assert [json.loads(line)["id"] for line in relayed.stdout.splitlines()] == [f"msg_{outbox_id}"]

    port = free_port()
    api = subprocess.Popen(
        [
            str(venv / "bin" / "pyproj-rpc"),
            "api",
            "--port",
            str(port),
            "--jwt-secret",
            JWT_SECRET,
            "--log-level",
            "warning",
        ],
        cwd=venv.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and api.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200, api.stderr.read() if api.poll() is not None else status
    finally:
        api.terminate()
        api.wait(timeout=30)
