"""Timing samples and their summary (medians and ratios: the machines are noisy)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Samples:
    """Wall-clock durations of one operation, in seconds."""

    label: str
    durations: list[float] = field(default_factory=list)

    def time(self, operation: Callable[[], object]) -> None:
        started = time.perf_counter()
        operation()
        self.durations.append(time.perf_counter() - started)

    @property
    def median_us(self) -> float:
        return statistics.median(self.durations) * 1e6

    @property
    def p95_us(self) -> float:
        ordered = sorted(self.durations)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1e6

    @property
    def per_second(self) -> float:
        return 1e6 / self.median_us

    def summary(self) -> dict[str, float | str | int]:
        return {
            "label": self.label,
            "samples": len(self.durations),
            "median_us": round(self.median_us, 1),
            "p95_us": round(self.p95_us, 1),
            "per_second_at_median": round(self.per_second, 1),
        }


def ratio(measured: Samples, baseline: Samples) -> float:
    """How many times slower than the baseline, comparing medians."""
    return measured.median_us / baseline.median_us


def table(rows: list[Samples], baseline: Samples) -> str:
    lines = [f"  {'':<46} {'median':>10} {'p95':>10} {'ops/s':>9} {'ratio':>7}"]
    for samples in rows:
        lines.append(
            f"  {samples.label:<46} {samples.median_us:>8.0f}µs {samples.p95_us:>8.0f}µs"
            f" {samples.per_second:>9.0f} {ratio(samples, baseline):>6.1f}x"
        )
    return "\n".join(lines)
