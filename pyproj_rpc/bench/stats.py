"""Medians, percentiles, ratios and aims: what the reports are made of.

The machines are noisy: benchmarks interleave baseline and measured runs in rounds and
report medians of rounds. Aims are printed next to the figures, never asserted.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5: the median sample, 0.99: p99)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.2f} ms"


def times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


@dataclass(frozen=True)
class Aim:
    """A target from the issue: ``value`` should be at most (or at least) ``limit``."""

    description: str
    value: float | None  # None: not measured in this run
    limit: float
    at_most: bool = True
    unit: str = "x"

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def text(self) -> str:
        sign = "<=" if self.at_most else ">="
        verdict = {True: "met", False: "NOT met", None: "not measured"}[self.met]
        value = "-" if self.value is None else f"{self.value:.2f}{self.unit}"
        return f"  aim: {self.description} {sign} {self.limit:g}{self.unit}: {value}, {verdict}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "value": None if self.value is None else round(self.value, 3),
            "limit": self.limit,
            "comparison": "<=" if self.at_most else ">=",
            "unit": self.unit,
            "met": self.met,
        }


def aims_text(aims: Sequence[Aim]) -> str:
    return "aims (from the issue; printed, not asserted):\n" + "\n".join(a.text() for a in aims)
