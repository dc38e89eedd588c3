"""`pyproj-rpc api` as an operator runs it: a real server in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pyproj_rpc.cli import exit_codes, main
from pyproj_rpc.localdb.cluster import free_port
from pyproj_rpc.rest.app import PREFIX
from tests.conftest import Database
from tests.rest_support import SECRET, auth_headers
from tests.support import Mentor, Organization, World

STARTUP_SECONDS = 60
ENV_SETTINGS = ("DATABASE_URL", "PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET", "PYPROJ_JWKS")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_SETTINGS}
    return env | {"PYPROJ_RPC_HOME": str(tmp_path)} | extra


@pytest.fixture
def scene(isolated_db: Database) -> tuple[Organization, Mentor]:
    with isolated_db.connect() as conn:
        org = World(conn).organization()
        mentor = org.mentor(coordinators=(org.coordinator(),))
        conn.commit()
    return org, mentor


@pytest.fixture
def running(isolated_db: Database, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`pyproj-rpc api` on a free port, the database from DATABASE_URL (TCP, password),
    the secret from SUPABASE_JWT_SECRET; ready once /healthz answers 200."""
    port = free_port()
    env = clean_env(tmp_path, DATABASE_URL=isolated_db.tcp_url, SUPABASE_JWT_SECRET=SECRET)
    process = subprocess.Popen(
        [sys.executable, "-m", "pyproj_rpc", "api", "--port", str(port), "--pool-size", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not healthy(url):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "pyproj-rpc api did not become healthy"
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_the_api_command_serves_the_contract_and_stops_cleanly_on_sigint(
    running: tuple[str, subprocess.Popen[str]], scene: tuple[Organization, Mentor]
) -> None:
    url, process = running
    org, mentor = scene
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/openapi.json").json()["openapi"].startswith("3.1.")
        paused = client.post(
            f"{PREFIX}/{mentor.id}/activate",
            json={"reason": "Family leave"},
            headers=auth_headers(mentor.identity),
        )
        assert (paused.status_code, paused.json()["status"]) == (200, "paused")
        status = client.get(f"{PREFIX}/{mentor.id}/status", headers=auth_headers(org.admin))
        assert status.json()["callerKind"] == "admin"
        assert client.get(f"{PREFIX}/{mentor.id}/status").status_code == 401
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def invoke(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["api", *args], env=clean_env(tmp_path, **env), catch_exceptions=False
    )
    return result.exit_code, result.stderr


def test_without_a_jwt_key_the_api_does_not_start(tmp_path: Path) -> None:
    code, stderr = invoke(tmp_path, "--database-url", "postgresql://localhost/none")
    assert code == exit_codes.USAGE
    assert "no JWT key" in stderr


def test_an_unreadable_jwks_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "jwks.json")
    code, stderr = invoke(tmp_path, "--database-url", "postgresql://x/y", "--jwks", missing)
    assert code == exit_codes.USAGE
    assert "cannot read the JWKS file" in stderr


def test_without_a_database_the_api_does_not_start(tmp_path: Path) -> None:
    code, stderr = invoke(tmp_path, PYPROJ_JWT_SECRET=SECRET)
    assert code == exit_codes.USAGE
    assert "no database" in stderr
