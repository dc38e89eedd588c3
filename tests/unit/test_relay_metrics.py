"""The metrics page follows the Prometheus text format."""

from __future__ import annotations

import pytest

from pyproj_rpc.relay.metrics import RelayMetrics


def samples(text: str) -> dict[str, float]:
    """name{labels} -> value, for every sample line."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_counters_and_gauges_start_at_zero_with_help_and_type() -> None:
    text = RelayMetrics().registry.render()
    assert "# TYPE pyproj_relay_delivered_total counter" in text
    assert "# TYPE pyproj_relay_backlog gauge" in text
    assert "# TYPE pyproj_relay_delivery_seconds histogram" in text
    values = samples(text)
    for name in (
        "pyproj_relay_delivered_total",
        "pyproj_relay_retried_total",
        "pyproj_relay_dead_lettered_total",
        "pyproj_relay_backlog",
        "pyproj_relay_oldest_pending_seconds",
    ):
        assert values[name] == 0


def test_the_latency_histogram_has_cumulative_buckets_a_sum_and_a_count() -> None:
    metrics = RelayMetrics()
    for seconds in (0.003, 0.2, 0.2, 7.0, 99.0):
        metrics.delivery_seconds.observe(seconds, outcome="delivered")
    values = samples(metrics.registry.render())
    bucket = 'pyproj_relay_delivery_seconds_bucket{outcome="delivered",le="%s"}'
    assert values[bucket % "0.005"] == 1
    assert values[bucket % "0.25"] == 3
    assert values[bucket % "10"] == 4
    assert values[bucket % "+Inf"] == 5
    assert values['pyproj_relay_delivery_seconds_count{outcome="delivered"}'] == 5
    assert values['pyproj_relay_delivery_seconds_sum{outcome="delivered"}'] == pytest.approx(
        106.403
    )


def test_counters_only_go_up() -> None:
    metrics = RelayMetrics()
    metrics.delivered.inc()
    metrics.delivered.inc(2)
    assert samples(metrics.registry.render())["pyproj_relay_delivered_total"] == 3
