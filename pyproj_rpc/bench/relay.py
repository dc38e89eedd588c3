"""What a webhook costs the relay, per notification, against a sink that does nothing.

Baseline: the relay delivering a backlog to a no-op sink (claims, outcome records, the
database's share). Measured: the same backlog to a signed webhook on a loopback HTTP
receiver (signing, HTTP, connection reuse). Each run resets the backlog to pending and
runs ``Relay.run(once=True)``; the two alternate.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg

from pyproj_rpc.identity import Identity
from pyproj_rpc.queries import query
from pyproj_rpc.relay import FunctionSink, Relay, RelayConfig, WebhookSecret
from pyproj_rpc.relay.webhook import WebhookSink
from pyproj_rpc.rpc import call
from pyproj_rpc.seed import Seeder
from pyproj_rpc.text import format_table


class _Accepting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@dataclass(frozen=True)
class Report:
    rows: int
    runs: int
    baseline: list[float]  # seconds per run
    measured: list[float]

    def per_row_us(self, runs: list[float]) -> float:
        return statistics.median(runs) / self.rows * 1e6

    @property
    def ratio(self) -> float:
        return self.per_row_us(self.measured) / self.per_row_us(self.baseline)

    def text(self) -> str:
        rows = [
            (label, f"{self.per_row_us(runs):.0f} µs", f"{1e6 / self.per_row_us(runs):.0f}")
            for label, runs in (
                ("baseline: no-op sink", self.baseline),
                ("webhook to a loopback receiver", self.measured),
            )
        ]
        return (
            f"relay: {self.rows} notifications per run, medians of {self.runs} runs each\n"
            + format_table(("sink", "per notification", "notifications/s"), rows)
            + f"\n  webhook / no-op (medians): {self.ratio:.1f}x"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": "relay",
            "rows": self.rows,
            "runs": self.runs,
            "baseline_per_row_us": round(self.per_row_us(self.baseline), 1),
            "measured_per_row_us": round(self.per_row_us(self.measured), 1),
            "ratio_of_medians": round(self.ratio, 2),
        }


def _backlog(url: str, rows: int) -> None:
    """``rows`` outbox rows: mentors pausing themselves, each telling their coordinator."""
    with psycopg.connect(url) as conn:
        seed = Seeder(conn)
        org = seed.organization(f"relay benchmark {uuid.uuid4().hex[:8]}")
        coordinator = seed.user()
        seed.staff(org, coordinator, "coordinator")
        mentors = []
        for n in range(rows):
            user = seed.user()
            mentor = seed.mentor(org, f"Mentor {n}", user_id=user)
            seed.assign(mentor, coordinator)
            mentors.append((mentor, user))
        conn.commit()
        for mentor, user in mentors:
            call(
                conn,
                Identity.user(user),
                "activate_pause",
                {
                    "mentor_id": mentor,
                    "reason": "benchmark",
                    "expected_return_date": None,
                    "force": False,
                    "idempotency_key": None,
                },
            )


def run(url: str, rows: int = 500, runs: int = 5) -> Report:
    _backlog(url, rows)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = RelayConfig(database_url=url, batch_size=50, concurrency=8, retention=None)
    hook_url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    secrets = (WebhookSecret.generate(),)
    baseline: list[float] = []
    measured: list[float] = []
    try:
        for _ in range(runs):
            for times, sink in (
                (baseline, FunctionSink(lambda message: None)),
                (measured, WebhookSink(hook_url, secrets)),
            ):
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(query("bench_outbox_reset"))
                started = time.perf_counter()
                summary = Relay(config, [sink]).run(once=True)
                times.append(time.perf_counter() - started)
                assert summary.delivered == rows, summary
    finally:
        server.shutdown()
        server.server_close()
    return Report(rows, runs, baseline, measured)
