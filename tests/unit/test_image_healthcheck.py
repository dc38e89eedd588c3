"""The image's HEALTHCHECK script: healthy only when /healthz answers 200.

It runs with the image's system Python (standard library only), so it runs here with
ours, as its own process, the way Docker runs it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pyproj_rpc.localdb.cluster import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "deploy/docker/healthcheck.py"


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.server.status if self.path == "/healthz" else 404)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    httpd.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/healthz"


def test_a_service_whose_healthz_answers_200_is_healthy(server: ThreadingHTTPServer) -> None:
    assert check(url(server)).returncode == 0


def test_a_service_answering_503_is_unhealthy_and_says_so(server: ThreadingHTTPServer) -> None:
    server.status = 503  # type: ignore[attr-defined]
    result = check(url(server))
    assert result.returncode == 1
    assert "answered 503" in result.stderr


def test_a_service_that_does_not_listen_is_unhealthy() -> None:
    result = check(f"http://127.0.0.1:{free_port()}/healthz")
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_the_url_comes_from_the_environment_when_not_given(server: ThreadingHTTPServer) -> None:
    assert check(env={"PYPROJ_HEALTHCHECK_URL": url(server)}).returncode == 0


def test_the_script_is_executable_as_the_image_installs_it() -> None:
    assert SCRIPT.stat().st_mode & 0o111
    assert SCRIPT.read_text().startswith("#!/usr/local/bin/python3\n")
