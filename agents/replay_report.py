"""The comparison a replay prints: the recorded results against their shadow results, side by side."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.result import LLMResult


@dataclass(frozen=True, slots=True)
class SideSummary:
    """Totals of one side (recorded or shadow) over the requests both sides have."""

    requests: int
    cost_usd: float
    passed: int
    latency_p50_ms: float
    latency_mean_ms: float

    @property
    def pass_rate(self) -> float:
        """Share of requests answered ``ok`` (for schema-bound ones: valid against the schema)."""
        return self.passed / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """Recorded vs shadow, and how many answers changed."""

    recorded: SideSummary
    shadow: SideSummary
    changed: int
    unmatched: int

    def render(self) -> str:
        """A small fixed-width table."""
        rows = [
            ("requests", str(self.recorded.requests), str(self.shadow.requests)),
            ("cost_usd", f"{self.recorded.cost_usd:.6f}", f"{self.shadow.cost_usd:.6f}"),
            ("pass rate", f"{self.recorded.pass_rate:.1%}", f"{self.shadow.pass_rate:.1%}"),
            ("latency p50 ms", f"{self.recorded.latency_p50_ms:.1f}", f"{self.shadow.latency_p50_ms:.1f}"),
            ("latency mean ms", f"{self.recorded.latency_mean_ms:.1f}", f"{self.shadow.latency_mean_ms:.1f}"),
        ]
        lines = [f"{'':<16} {'recorded':>12} {'shadow':>12}"]
        lines += [f"{name:<16} {left:>12} {right:>12}" for name, left, right in rows]
        lines.append(f"answers changed: {self.changed} of {self.recorded.requests}")
        if self.unmatched:
            lines.append(f"requests without a recorded result (not compared): {self.unmatched}")
        return "\n".join(lines)


def _summary(results: Sequence[LLMResult]) -> SideSummary:
    latencies = [r.latency_ms for r in results]
    return SideSummary(
        requests=len(results),
        cost_usd=round(sum(r.cost_usd or 0.0 for r in results), 10),  # null: an unpriced model
        passed=sum(1 for r in results if r.status == "ok"),
        latency_p50_ms=statistics.median(latencies) if latencies else 0.0,
        latency_mean_ms=statistics.fmean(latencies) if latencies else 0.0,
    )


def answer_changed(recorded: LLMResult, shadow: LLMResult) -> bool:
    """Whether the shadow answer differs: another status, or another output (``parsed`` for schema answers)."""
    if recorded.status != shadow.status:
        return True
    if recorded.parsed is not None or shadow.parsed is not None:
        return bool(recorded.parsed != shadow.parsed)
    return (recorded.output or "").strip() != (shadow.output or "").strip()


def compare(pairs: Sequence[tuple[LLMResult | None, LLMResult]]) -> Comparison:
    """Compare each shadow result with its recorded one (pairs without a recorded result are only counted)."""
    matched = [(recorded, shadow) for recorded, shadow in pairs if recorded is not None]
    return Comparison(
        recorded=_summary([recorded for recorded, _ in matched]),
        shadow=_summary([shadow for _, shadow in matched]),
        changed=sum(1 for recorded, shadow in matched if answer_changed(recorded, shadow)),
        unmatched=len(pairs) - len(matched),
    )
