"""A newcomer's first hour, as the README tells it: `demo --keep`, then their own
organization with `roster`, a development `token`, and the curl example against
`pyproj-rpc api`; then the cluster is stopped. Every step is a subprocess."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from pyproj_rpc.localdb.cluster import free_port

SETTINGS = ("DATABASE_URL", "PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET", "PYPROJ_JWKS")
PREFIX = "/api/v1/pause-management"
STARTUP_SECONDS = 60


class Newcomer:
    """A shell of their own: a fresh PYPROJ_RPC_HOME, no DATABASE_URL, no secrets."""

    def __init__(self, home: Path) -> None:
        clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
        self.env = clean | {"PYPROJ_RPC_HOME": str(home)}

    def run(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "pyproj_rpc", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"pyproj-rpc {shlex.join(args)}:\n{result.stderr}"
        return result.stdout

    def changes(self, *args: str) -> dict[str, dict[str, Any]]:
        out = json.loads(self.run("roster", *args, "--json"))
        return {change["kind"]: change for change in out["changes"]}

    def printed(self, line: str) -> str:
        """Run a `VAR=$(pyproj-rpc ...)` line the demo printed; the command's output."""
        match = re.fullmatch(
            r"\w+=\$\(pyproj-rpc (.*)\)", line.split("   #", maxsplit=1)[0].strip()
        )
        assert match, line
        return self.run(*shlex.split(match.group(1))).strip()


def wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "pyproj-rpc api did not become healthy"
        time.sleep(0.2)


def test_a_newcomer_goes_from_the_demo_to_their_own_organization_over_rest(
    tmp_path: Path,
) -> None:
    me = Newcomer(tmp_path)
    demo = me.run("demo", "--keep", timeout=300)
    try:
        walk_through(me, demo)
    finally:
        stopped = subprocess.run(
            [sys.executable, "-m", "pyproj_rpc", "db", "local", "stop"],
            env=me.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(me.run("db", "local", "status", "--json")) == {"running": False}


def walk_through(me: Newcomer, demo: str) -> None:
    lines = [line.strip() for line in demo.splitlines()]
    # 1. The demo printed a secret, a token command per person, and curl calls with real ids.
    (secret_line,) = [line for line in lines if line.startswith("export PYPROJ_JWT_SECRET=")]
    me.env["PYPROJ_JWT_SECRET"] = shlex.split(secret_line.removeprefix("export "))[0].split("=", 1)[
        1
    ]
    (casey_line,) = [line for line in lines if line.startswith("CASEY_TOKEN=$(pyproj-rpc token")]
    assert casey_line.endswith("# Casey, coordinator of Ada, Ben and Dan")
    (status_call,) = [line for line in lines if "/status" in line and line.startswith("curl")]
    casey_token = me.printed(casey_line)

    # 2. Their own organization, through the roster (the running local cluster, no URL).
    today = date.today()
    org = me.changes("org", "create", "Riverside Mentors", "--time-zone", "Europe/Berlin")
    assert org["organization"]["action"] == "created"
    me.changes(
        "staff", "add", "Riverside Mentors", "--role", "admin",
        "--email", "morgan@riverside.example", "--create-user",
    )  # fmt: skip
    riley = me.changes(
        "staff", "add", "Riverside Mentors", "--role", "coordinator",
        "--email", "riley@riverside.example", "--create-user",
    )["staff"]  # fmt: skip
    noor = me.changes(
        "mentor", "add", "Riverside Mentors", "Noor",
        "--email", "noor@riverside.example", "--create-user",
        "--certified-from", str(today - timedelta(days=30)),
        "--certified-until", str(today + timedelta(days=335)),
    )["mentor"]  # fmt: skip
    assert noor["status"] == "active"
    sam = me.changes("mentor", "add", "Riverside Mentors", "Sam")["mentor"]
    assert sam["status"] == "expired_cert"
    me.changes("cert", "record", sam["id"], "--from", str(today), "--name", "Peer mentor training")
    me.changes("assign", noor["id"], "riley@riverside.example")
    listing = json.loads(me.run("roster", "list", "--json"))
    names = [o["name"] for o in listing["organizations"]]
    assert "Riverside Mentors" in names
    assert len(names) == 2  # the demo's and theirs

    # 3. A token for their coordinator, the API, and the README's curl example.
    token = me.run("token", "--as", riley["user_id"], "--ttl", "1h").strip()
    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "pyproj_rpc", "api", "--port", str(port)],
        env=me.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, api)
        back = str(today + timedelta(days=14))
        paused = post_activate(base, noor["id"], token, back)
        assert paused["status"] == "paused"
        assert paused["openPause"]["expectedReturnDate"] == back
        # The demo's printed call works when pasted (its port aside).
        printed = http_as_printed(
            status_call.replace("127.0.0.1:8000", f"127.0.0.1:{port}"), casey_token
        )
        assert printed["displayName"] == "Ada"
        assert printed["callerKind"] == "coordinator"
    finally:
        api.send_signal(signal.SIGINT)
        api.communicate(timeout=30)
    assert api.returncode == 0


def post_activate(base: str, mentor_id: str, token: str, back: str) -> Any:
    """The README's curl example: curl itself when installed, else the same call by httpx."""
    url = f"{base}{PREFIX}/{mentor_id}/activate"
    body = json.dumps({"reason": "Family leave", "expectedReturnDate": back})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if shutil.which("curl"):
        args = ["curl", "-s", "-f", "-X", "POST", url, "-d", body]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(result.stdout)
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def http_as_printed(line: str, token: str) -> Any:
    """A `curl ... -H "Authorization: Bearer $X_TOKEN"` line the demo printed, run as is."""
    command = line.split("   #", maxsplit=1)[0]
    if shutil.which("curl"):
        env = os.environ | {"CASEY_TOKEN": token}
        result = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        return json.loads(result.stdout)
    url = next(part for part in shlex.split(command) if part.startswith("http"))
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()
