"""The targets of issue 3 and how each is read from the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.stats import Figure

NAN = Figure(float("nan"), float("nan"), float("nan"), 0)


@dataclass(frozen=True, slots=True)
class Target:
    """One target: a figure of the report compared with a bound (``at_least`` or at most)."""

    name: str
    bound: float
    unit: str
    at_least: bool
    read: Callable[[dict[str, Any]], Figure]
    untested: Callable[[dict[str, Any]], str | None] = lambda report: None
    """Why the target cannot be judged from this report (its precondition was not reached), if so."""

    def verdict(self, report: dict[str, Any]) -> tuple[Figure, str]:
        """The measured figure (median) and ``PASS``/``MISS``; ``n/a`` when the scenario did not run, and
        ``UNTESTED (why)`` when the condition the target is stated for was never reached."""
        try:
            figure = self.read(report)
            why = self.untested(report)
        except KeyError:
            return NAN, "n/a"
        if figure.runs == 0:
            return figure, "n/a"
        if why:
            return figure, f"UNTESTED ({why})"
        ok = figure.median >= self.bound if self.at_least else figure.median <= self.bound
        return figure, "PASS" if ok else "MISS"

    def as_text(self) -> str:
        """``>= 1,000 req/s``."""
        return f"{'>=' if self.at_least else '<='} {self.bound:,.0f} {self.unit}"


def _fig(*path: str) -> Callable[[dict[str, Any]], Figure]:
    def read(report: dict[str, Any]) -> Figure:
        node: Any = report
        for key in path:
            node = node[key]
        assert isinstance(node, Figure)
        return node

    return read


def _in_flight_at_sustained(report: dict[str, Any]) -> Figure:
    return Figure.of(ramp.get("at_sustained_peak_in_flight", float("nan")) for ramp in report["in_flight"]["ramps"])


def _held_reached(report: dict[str, Any]) -> str | None:
    """Why the RSS target cannot be judged: 2,000 requests were never in flight at once."""
    peak = report["held"]["figures"]["peak_in_flight"].median
    return None if peak >= 2000 else f"at most {peak:,.0f} in flight"


TARGETS: tuple[Target, ...] = (
    Target(
        "cache-miss throughput, zero-latency provider",
        1000,
        "req/s",
        True,
        _fig("cache_miss", "figures", "sustained_rate"),
    ),
    Target(
        "sustained rate with 1 s provider latency",
        1000,
        "req/s",
        True,
        _fig("in_flight", "figures", "sustained_rate"),
    ),
    Target("requests in flight with 1 s provider latency", 2000, "", True, _in_flight_at_sustained),
    Target("cache-hit throughput", 1500, "req/s", True, _fig("cache_hit", "figures", "sustained_rate")),
    Target("overhead p50 at 250 req/s", 40, "ms", False, _fig("overhead", "by_rate", "250", "overhead_p50")),
    Target("overhead p99 at 250 req/s", 120, "ms", False, _fig("overhead", "by_rate", "250", "overhead_p99")),
    Target(
        "worker RSS at 2,000+ in flight (slow provider)",
        400,
        "MB",
        False,
        _fig("held", "figures", "peak_rss_mb"),
        _held_reached,
    ),
)
