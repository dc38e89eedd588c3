"""Prometheus text-format metrics and a health endpoint, served by a small HTTP thread.

``GET /metrics``: counters, gauges and the delivery latency histogram.
``GET /healthz``: JSON with the listener's and the database's state; 200 while the
relay listens for wake-ups, 503 otherwise (a readiness check: the relay reconnects by
itself, so do not restart it for a 503).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    escaped = (
        (k, v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')) for k, v in pairs
    )
    return "{" + ",".join(f'{k}="{v}"' for k, v in escaped) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str, lock: threading.Lock) -> None:
        self.name = name
        self.help = help
        self.lock = lock
        self.values: dict[Labels, float] = {}

    def header(self) -> Iterator[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"

    def lines(self) -> Iterator[str]:
        yield from self.header()
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(labels)} {_number(value)}"


class Counter(_Metric):
    """A count that only goes up (exported as 0 before the first increment)."""

    kind = "counter"

    def __init__(self, name: str, help: str, lock: threading.Lock) -> None:
        super().__init__(name, help, lock)
        self.values[()] = 0.0

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self.lock:
            self.values[key] = self.values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self.lock:
            return self.values.get(tuple(sorted(labels.items())), 0.0)


class Gauge(_Metric):
    """A value that goes up and down (0 until first set)."""

    kind = "gauge"

    def __init__(self, name: str, help: str, lock: threading.Lock) -> None:
        super().__init__(name, help, lock)
        self.values[()] = 0.0

    def set(self, value: float, **labels: str) -> None:
        with self.lock:
            self.values[tuple(sorted(labels.items()))] = value


@dataclass
class _Series:
    buckets: list[int]  # observations per bucket (not cumulative: one increment each)
    total: float = 0.0
    count: int = 0


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        lock: threading.Lock,
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        super().__init__(name, help, lock)
        self.buckets = tuple(sorted(buckets))
        self.series: dict[Labels, _Series] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self.lock:
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = _Series([0] * (len(self.buckets) + 1))
            series.buckets[bisect.bisect_left(self.buckets, value)] += 1  # the last: +Inf
            series.total += value
            series.count += 1

    def lines(self) -> Iterator[str]:
        yield from self.header()
        for labels, series in sorted(self.series.items()):
            cumulative = itertools.accumulate(series.buckets)
            for bound, count in zip(self.buckets, cumulative, strict=False):
                yield f"{self.name}_bucket{_labels(labels, (('le', _number(bound)),))} {count}"
            yield f"{self.name}_bucket{_labels(labels, (('le', '+Inf'),))} {series.count}"
            yield f"{self.name}_sum{_labels(labels)} {_number(series.total)}"
            yield f"{self.name}_count{_labels(labels)} {series.count}"


M = TypeVar("M", bound=_Metric)


class Registry:
    """A set of metrics rendered together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metrics: list[_Metric] = []

    def counter(self, name: str, help: str) -> Counter:
        return self._add(Counter(name, help, self._lock))

    def gauge(self, name: str, help: str) -> Gauge:
        return self._add(Gauge(name, help, self._lock))

    def histogram(self, name: str, help: str) -> Histogram:
        return self._add(Histogram(name, help, self._lock))

    def _add(self, metric: M) -> M:
        self._metrics.append(metric)
        return metric

    def render(self) -> str:
        """Every metric in the Prometheus text exposition format."""
        with self._lock:
            return "".join(line + "\n" for metric in self._metrics for line in metric.lines())


class RelayMetrics:
    """The relay's metrics (names start with ``pyproj_relay_``)."""

    def __init__(self) -> None:
        self.registry = Registry()
        r = self.registry
        self.backlog = r.gauge("pyproj_relay_backlog", "Outbox rows not yet delivered nor dead.")
        self.oldest_pending_seconds = r.gauge(
            "pyproj_relay_oldest_pending_seconds",
            "Age of the oldest pending outbox row (delivery lag), 0 when none.",
        )
        self.dead_letters = r.gauge(
            "pyproj_relay_dead_letters", "Dead-lettered outbox rows waiting for `outbox retry`."
        )
        self.delivered = r.counter("pyproj_relay_delivered_total", "Rows delivered to all sinks.")
        self.retried = r.counter("pyproj_relay_retried_total", "Failed attempts scheduled again.")
        self.dead_lettered = r.counter(
            "pyproj_relay_dead_lettered_total", "Rows dead-lettered by this relay."
        )
        self.released = r.counter(
            "pyproj_relay_released_total", "Claimed rows given back untouched (shutdown)."
        )
        self.stale = r.counter(
            "pyproj_relay_stale_claims_total",
            "Outcomes dropped because the lease ran out and another relay claimed the row.",
        )
        self.delivery_seconds = r.histogram(
            "pyproj_relay_delivery_seconds", "Time to hand one row to every sink, by outcome."
        )
        self.listener_up = r.gauge(
            "pyproj_relay_listener_up", "1 while the LISTEN connection is established."
        )
        self.database_up = r.gauge(
            "pyproj_relay_database_up", "1 while the work connection is established."
        )


class MetricsServer:
    """``/metrics`` and ``/healthz`` on ``host:port`` (port 0: any free port), in a thread."""

    def __init__(
        self,
        metrics: RelayMetrics,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.metrics = metrics
        self.health = health
        handler = self._handler()
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="relay-metrics", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE, server.metrics.registry.render().encode())
                elif path in ("/healthz", "/health"):
                    healthy, details = server.health()
                    body = json.dumps({"status": "ok" if healthy else "unavailable", **details})
                    self._send(200 if healthy else 503, "application/json", body.encode())
                else:
                    self._send(404, "text/plain", b"not found\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Scrapes are not worth a log line."""

        return Handler
