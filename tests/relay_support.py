"""Helpers for the relay's tests: a real webhook receiver, relay subprocesses, outbox rows.

- :class:`Receiver` serves HTTP/1.1 on a loopback port, records every request and
  answers as told (a status, ``Retry-After``, or no answer until released);
- :class:`RelayProcess` runs ``pyproj-rpc relay`` in a subprocess, with its JSON log
  lines (stderr) and its stdout in files, and is always killed at the end;
- :func:`pause_mentors` commits status changes, one outbox row each.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg.rows import dict_row

from tests.support import WAIT, World, call, eventually

# Fast settings for tests: short polls and backoffs, never long waits.
FAST = [
    "--poll-interval",
    "200ms",
    "--backoff-base",
    "50ms",
    "--backoff-cap",
    "200ms",
    "--timeout",
    "2s",
    "--stats-interval",
    "100ms",
    "--retention",
    "off",
]


# -- the receiver -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """How the receiver answers one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False  # answer only once released (a receiver slower than any timeout)


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it."""

    headers: dict[str, str]
    body: bytes
    client_port: int
    received_at: float  # time.time()

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def document(self) -> Any:
        return json.loads(self.body)

    @property
    def outbox_id(self) -> int:
        return int(self.webhook_id.removeprefix("msg_"))


class Receiver:
    """A webhook receiver on 127.0.0.1: records requests, answers as scripted."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.default = Reply()
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def answer(self, *replies: Reply) -> None:
        """The next requests get these replies, in order; then the default."""
        with self._lock:
            self._script.extend(replies)

    def answer_always(self, reply: Reply) -> None:
        with self._lock:
            self._script.clear()
            self.default = reply

    def release(self) -> None:
        """Let held requests answer (their client has usually given up by then)."""
        self._released.set()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received()]

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_reply(self, request: Received) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per answer

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                request = Received(
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.client_address[1],
                    time.time(),
                )
                reply = receiver._next_reply(request)
                if reply.hold:
                    receiver._released.wait(timeout=120)
                phrase = HTTPStatus(reply.status).phrase
                head = [f"HTTP/1.1 {reply.status} {phrase}", "content-length: 2"]
                head += [f"{name}: {value}" for name, value in reply.headers.items()]
                answer = ("\r\n".join(head) + "\r\n\r\nok").encode()
                try:  # one write: no delayed-ACK stall between headers and body
                    self.connection.sendall(answer)
                except OSError:  # the relay hung up (a timeout, a kill)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler


# -- relay processes ----------------------------------------------------------------------


class RelayProcess:
    """``pyproj-rpc relay`` in a subprocess. Its stderr (JSON logs) and stdout go to files."""

    def __init__(self, directory: Path, url: str, *args: str, env: dict[str, str] | None = None):
        directory.mkdir(parents=True, exist_ok=True)
        self.stdout_path = directory / "stdout"
        self.stderr_path = directory / "stderr"
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
        base["NO_PROXY"] = base["no_proxy"] = "127.0.0.1,localhost"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pyproj_rpc", "relay", "--database-url", url, *args],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env={**base, **(env or {})},
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Log lines so far, parsed (optionally only those of one event)."""
        found = []
        for line in self.stderr_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and (name is None or entry.get("event") == name):
                found.append(entry)
        return found

    def wait_for_event(self, name: str, count: int = 1, timeout: float = WAIT) -> dict[str, Any]:
        def seen() -> list[dict[str, Any]] | None:
            events = self.events(name)
            if len(events) >= count:
                return events
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited ({self.process.returncode}):\n{self.output()}")
            return None

        events: list[dict[str, Any]] = eventually(seen, f"{count} {name} event(s)", timeout)
        return events[count - 1]

    def stdout_lines(self) -> list[str]:
        return self.stdout_path.read_text().splitlines()

    def output(self) -> str:
        return self.stderr_path.read_text()

    def send(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = WAIT) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


class Relays:
    """Starts relay processes for one test and kills whatever still runs at its end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[RelayProcess] = []

    def start(self, url: str, *args: str, env: dict[str, str] | None = None) -> RelayProcess:
        relay = RelayProcess(self.directory / f"relay{len(self.started)}", url, *args, env=env)
        self.started.append(relay)
        return relay

    def close(self) -> None:
        for relay in self.started:
            relay.kill()


@contextlib.contextmanager
def relays_in(directory: Path) -> Iterator[Relays]:
    relays = Relays(directory)
    try:
        yield relays
    finally:
        relays.close()


def webhook_args(receiver: Receiver, *secrets: str) -> list[str]:
    args = ["--webhook-url", receiver.url]
    for secret in secrets:
        args += ["--webhook-secret", secret]
    return args


# -- the database side ----------------------------------------------------------------------


def pause_mentors(url: str, count: int, *, coordinators: int = 1) -> list[int]:
    """Commit ``count`` self-pauses of different mentors; return the new outbox ids."""
    with psycopg.connect(url) as conn:
        world = World(conn)
        org = world.organization()
        team = tuple(org.coordinator() for _ in range(coordinators))
        before = max_outbox_id(conn)
        for number in range(count):
            mentor = org.mentor(coordinators=team, name=f"Mentor {number}")
            call(conn, mentor.identity, "activate_pause", mentor_id=mentor.id, reason="exams")
            conn.commit()
        rows = conn.execute("select id from mentoring.outbox where id > %s order by id", (before,))
        return [row[0] for row in rows]


def max_outbox_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("select coalesce(max(id), 0) from mentoring.outbox").fetchone()
    assert row is not None
    return int(row[0])


def outbox_rows(url: str) -> dict[int, dict[str, Any]]:
    """Every outbox row by id."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute("select * from mentoring.outbox order by id").fetchall()
    return {row["id"]: row for row in rows}


def undelivered(url: str) -> list[int]:
    return [i for i, row in outbox_rows(url).items() if row["delivered_at"] is None]


def all_delivered(url: str) -> bool:
    return not undelivered(url)
