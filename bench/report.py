"""The printed table (figures, ratios to the baseline, targets with PASS/MISS) and the JSON report."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.hops import SEGMENTS
from bench.stats import Figure
from bench.targets import TARGETS

NAN = Figure(float("nan"), float("nan"), float("nan"), 0)


def _get(node: Any, *path: str) -> Figure:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return NAN
        node = node[key]
    return node if isinstance(node, Figure) else NAN


def _ratio(a: Figure, b: Figure) -> str:
    if a.runs == 0 or b.runs == 0 or not b.median or math.isnan(a.median / b.median):
        return "-"
    return f"x{a.median / b.median:.2f}"


def render(report: dict[str, Any]) -> str:
    """The whole printable report."""
    meta = report["meta"]
    lines = [
        f"streamgate bench ({'quick' if meta['quick'] else 'full'}): {meta['cores']} cores, {meta['broker']}, "
        f"~1 KB requests; figures are median (min-max) over runs; took {meta['seconds']:.0f} s",
        "",
    ]
    lines += _baseline(report.get("baseline", {}))
    lines += _overhead(report.get("overhead", {}), report.get("baseline", {}))
    lines += _capacity(report)
    lines += _targets(report)
    return "\n".join(lines)


def _baseline(base: dict[str, Any]) -> list[str]:
    if not base:
        return []
    lines = [
        "BASELINE  raw aiokafka produce -> consume -> produce -> consume (one hop and back), same broker",
        f"  blast throughput          {_get(base, 'throughput_msgs_s').text()} msg/s",
    ]
    for rate, figs in base["latency"].items():
        lines.append(
            f"  round trip @{rate:>5}/s     p50 {_get(figs, 'e2e_p50').text(1)}  p95 "
            f"{_get(figs, 'e2e_p95').text(1)}  p99 {_get(figs, 'e2e_p99').text(1)} ms"
        )
    return [*lines, ""]


def _overhead(over: dict[str, Any], base: dict[str, Any]) -> list[str]:
    if not over:
        return []
    lines = [
        "OVERHEAD  end-to-end minus provider time; cache misses, zero-latency simulator, all six stages",
        f"  {'rate':>7}  {'p50 ms':<20}{'p95 ms':<20}{'p99 ms':<20}{'e2e p99 ms':<20}x baseline p50/p99",
    ]
    for rate, figs in over["by_rate"].items():
        ref = base.get("latency", {}).get(rate, {})
        lines.append(
            f"  {rate:>5}/s  {_get(figs, 'overhead_p50').text(1):<20}{_get(figs, 'overhead_p95').text(1):<20}"
            f"{_get(figs, 'overhead_p99').text(1):<20}{_get(figs, 'e2e_p99').text(1):<20}"
            f"{_ratio(_get(figs, 'e2e_p50'), _get(ref, 'e2e_p50'))} / "
            f"{_ratio(_get(figs, 'e2e_p99'), _get(ref, 'e2e_p99'))}"
        )
    hops = over.get("hops", {})
    if hops:
        lines.append(
            f"  per hop @{hops['rate']:.0f}/s ({hops['timed']} requests timed by record timestamps), p50 / p99 ms:"
        )
        for name in SEGMENTS:
            lines.append(
                f"    {name:<18} {_get(hops, 'segments', f'{name}_p50').text(1):<20}"
                f"{_get(hops, 'segments', f'{name}_p99').text(1)}"
            )
    return [*lines, ""]


def _capacity(report: dict[str, Any]) -> list[str]:
    rows = [
        ("cache miss, 1 worker", "cache_miss"),
        ("cache hit, 1 worker", "cache_hit"),
        ("1 s provider, 1 worker", "in_flight"),
        ("cache miss, 2 workers", "scaling"),
    ]
    base = _get(report.get("baseline", {}), "throughput_msgs_s")
    lines = [
        "CAPACITY  highest sustained offered rate (all answered, none refused, p99 under the bound); capacity = "
        "drain rate when overloaded",
        f"  {'scenario':<24}{'sustained req/s':<24}{'capacity req/s':<24}{'e2e p99 ms at sustained':<26}"
        "x baseline msg/s",
    ]
    for label, key in rows:
        part = report.get(key)
        if not part:
            continue
        figs = part["figures"]
        lines.append(
            f"  {label:<24}{_get(figs, 'sustained_rate').text():<24}{_get(figs, 'capacity').text():<24}"
            f"{_get(figs, 'at_sustained_e2e_p99').text():<26}{_ratio(_get(figs, 'sustained_rate'), base)}"
        )
    extra = report.get("in_flight", {}).get("figures", {})
    if extra:
        lines.append(
            f"  1 s provider: in flight at sustained {_get(extra, 'at_sustained_peak_in_flight').text()}, "
            f"worker RSS {_get(extra, 'at_sustained_peak_rss_mb_w0').text()} MB; when overloaded "
            f"{_get(extra, 'at_overload_peak_in_flight').text()} in flight, RSS "
            f"{_get(extra, 'at_overload_peak_rss_mb_w0').text()} MB"
        )
    hit = report.get("cache_hit", {}).get("figures", {})
    if hit:
        lines.append(
            f"  cache hit: {_get(hit, 'at_sustained_cached').text()} of "
            f"{_get(hit, 'at_sustained_answered').text()} answers at the sustained step came from the cache"
        )
    one, two = (
        _get(report.get("cache_miss", {}), "figures", "sustained_rate"),
        _get(report.get("scaling", {}), "figures", "sustained_rate"),
    )
    if two.runs:
        capacities = [_get(report.get(key, {}), "figures", "capacity") for key in ("scaling", "cache_miss")]
        lines.append(
            f"  scaling: 2 workers / 1 worker = {_ratio(two, one)} (sustained), {_ratio(*capacities)} (capacity)"
        )
    return [*lines, ""]


def _targets(report: dict[str, Any]) -> list[str]:
    lines = ["TARGETS (one worker, 2 cores, embedded broker, ~1 KB requests)"]
    for target in TARGETS:
        figure, verdict = target.verdict(report)
        lines.append(f"  {target.name:<48}{target.as_text():<16}{figure.text():<28}{verdict}")
    return lines


def to_json(value: Any) -> Any:
    """The report with every :class:`Figure` as a dict (and nan as null)."""
    if isinstance(value, Figure):
        return {k: to_json(v) for k, v in value.as_json().items()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write the report, with the targets' verdicts, as JSON."""
    doc = to_json(report)
    doc["targets"] = [
        {
            "name": t.name,
            "bound": t.bound,
            "unit": t.unit,
            "at_least": t.at_least,
            "measured": to_json(fig),
            "verdict": verdict,
        }
        for t in TARGETS
        for fig, verdict in [t.verdict(report)]
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
