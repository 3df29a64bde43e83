"""Small statistics helpers: percentiles of one run and median / min-max over repeated runs."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; ``nan`` for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95 and p99 (ms) of one run."""
    return {
        "p50": percentile(values_ms, 50),
        "p95": percentile(values_ms, 95),
        "p99": percentile(values_ms, 99),
    }


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure: the median over runs, with the smallest and largest run."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Figure:
        """Aggregate the per-run values (``nan`` ones are ignored)."""
        kept = [v for v in values if v == v]
        if not kept:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        return cls(statistics.median(kept), min(kept), max(kept), len(kept))

    def text(self, digits: int = 0) -> str:
        """``median (min-max)`` for the table."""
        if self.runs == 0:
            return "n/a"
        if self.runs == 1 or self.low == self.high:
            return f"{self.median:,.{digits}f}"
        return f"{self.median:,.{digits}f} ({self.low:,.{digits}f}-{self.high:,.{digits}f})"

    def as_json(self) -> dict[str, float | int]:
        """The JSON form."""
        return {"median": self.median, "min": self.low, "max": self.high, "runs": self.runs}


def figures(runs: Sequence[dict[str, float]]) -> dict[str, Figure]:
    """Aggregate a list of per-run metric dicts key by key."""
    keys = {key for run in runs for key in run}
    return {key: Figure.of(run.get(key, float("nan")) for run in runs) for key in sorted(keys)}
