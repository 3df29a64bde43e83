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
FOREIGN_WARN_CORES = 0.2
CAPACITY_ROWS = (
    ("cache miss, 1 worker", "cache_miss"),
    ("cache hit, 1 worker", "cache_hit"),
    ("1 s provider, 1 worker", "in_flight"),
    ("cache miss, 2 workers", "scaling"),
)


def _get(node: Any, *path: str) -> Figure:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return NAN
        node = node[key]
    return node if isinstance(node, Figure) else NAN


def _ratio(a: Figure, b: Figure) -> str:
    if a.runs == 0 or b.runs == 0 or not b.median or math.isnan(a.median / b.median):
        return "-"
    return f"x{a.median / b.median:.3g}"


def _percent(a: Figure, b: Figure) -> str:
    if a.runs == 0 or b.runs == 0 or not b.median or math.isnan(a.median / b.median):
        return "-"
    return f"{100 * a.median / b.median:.2g} %"


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
    lines += _cpu(report.get("cpu", {}))
    lines += _targets(report)
    return "\n".join(lines)


def _baseline(base: dict[str, Any]) -> list[str]:
    if not base:
        return []
    lines = [
        "BASELINE  raw aiokafka produce -> consume -> produce -> consume (one hop and back), same broker",
        f"  blast throughput            {_get(base, 'throughput_msgs_s').text()} msg/s",
    ]
    for rate, figs in base["latency"].items():
        lines.append(
            f"  round trip @{rate:>4}/s       p50 {_get(figs, 'e2e_p50').text(1)}  p95 "
            f"{_get(figs, 'e2e_p95').text(1)}  p99 {_get(figs, 'e2e_p99').text(1)} ms"
        )
    return [*lines, ""]


def _overhead(over: dict[str, Any], base: dict[str, Any]) -> list[str]:
    if not over:
        return []
    lines = [
        "OVERHEAD  end-to-end minus provider time (ms); cache misses, zero-latency simulator, all six stages",
        f"  {'rate':>7}  {'p50':<22}{'p95':<22}{'p99':<22}{'results/s':<12}x baseline p50 / p99",
    ]
    overloaded = False
    for rate, figs in over["by_rate"].items():
        ref = base.get("latency", {}).get(rate, {})
        out = _get(figs, "completion_rate")
        behind = out.runs > 0 and out.median < 0.9 * float(rate)
        overloaded |= behind
        lines.append(
            f"  {rate:>5}/s{'*' if behind else ' '} {_get(figs, 'overhead_p50').text(1):<22}"
            f"{_get(figs, 'overhead_p95').text(1):<22}{_get(figs, 'overhead_p99').text(1):<22}{out.text():<12}"
            f"{_ratio(_get(figs, 'e2e_p50'), _get(ref, 'e2e_p50'))} / "
            f"{_ratio(_get(figs, 'e2e_p99'), _get(ref, 'e2e_p99'))}"
        )
    if overloaded:
        lines.append("  * offered more than the worker serves: these latencies are mostly time spent queued")
    hops = over.get("hops", {})
    if hops:
        lines.append(f"  per hop @{hops['rate']:.0f}/s ({hops['timed']} requests timed by record timestamps), ms:")
        for name in SEGMENTS:
            lines.append(
                f"    {name:<18} p50 {_get(hops, 'segments', f'{name}_p50').text(1):<20}"
                f"p99 {_get(hops, 'segments', f'{name}_p99').text(1)}"
            )
    return [*lines, ""]


def _capacity(report: dict[str, Any]) -> list[str]:
    base = _get(report.get("baseline", {}), "throughput_msgs_s")
    meta = report.get("meta", {})
    lines = [
        f"CAPACITY  highest sustained offered rate (all answered, none refused, p99 < "
        f"{meta.get('throughput_p99_bound_ms', 0):.0f} ms; 1 s provider: < {meta.get('in_flight_p99_bound_ms', 0):.0f}"
        " ms); capacity = results/s while overloaded",
        f"  {'scenario':<24}{'sustained req/s':<22}{'capacity req/s':<22}{'e2e p99 ms at sustained':<26}"
        "of baseline msg/s",
    ]
    for label, key in CAPACITY_ROWS:
        if key in report:
            figs = report[key]["figures"]
            lines.append(
                f"  {label:<24}{_get(figs, 'sustained_rate').text():<22}{_get(figs, 'capacity').text():<22}"
                f"{_get(figs, 'at_sustained_e2e_p99').text():<26}{_percent(_get(figs, 'sustained_rate'), base)}"
            )
    flight = report.get("in_flight", {}).get("figures", {})
    if flight:
        lines.append(
            f"  1 s provider: {_get(flight, 'at_sustained_peak_in_flight').text()} in flight at the sustained rate, "
            f"worker RSS {_get(flight, 'at_sustained_peak_rss_mb_w0').text()} MB; overloaded: "
            f"{_get(flight, 'at_overload_peak_in_flight').text()} in flight, RSS "
            f"{_get(flight, 'at_overload_peak_rss_mb_w0').text()} MB"
        )
    held = report.get("held", {}).get("figures", {})
    if held:
        lines.append(
            f"  {report['held']['latency_ms'] / 1000:.0f} s provider at {report['held']['rate']:.0f} req/s: "
            f"{_get(held, 'peak_in_flight').text()} in flight, worker RSS {_get(held, 'peak_rss_mb').text()} MB, "
            f"overhead p50 {_get(held, 'overhead_p50').text()} / p99 {_get(held, 'overhead_p99').text()} ms"
        )
    hit = report.get("cache_hit", {}).get("figures", {})
    if hit:
        lines.append(
            f"  cache hit: {_get(hit, 'at_sustained_cached').text()} of {_get(hit, 'at_sustained_answered').text()} "
            "answers at the sustained step came from the cache"
        )
    if "scaling" in report and "cache_miss" in report:
        one, two = report["cache_miss"]["figures"], report["scaling"]["figures"]
        lines.append(
            f"  scaling: 2 workers / 1 worker = {_ratio(_get(two, 'sustained_rate'), _get(one, 'sustained_rate'))}"
            f" (sustained), {_ratio(_get(two, 'capacity'), _get(one, 'capacity'))} (capacity)"
        )
    return [*lines, ""]


def _cpu(cpu: dict[str, Any]) -> list[str]:
    if not cpu:
        return []
    lines = ["CPU  average cores used during each scenario (2 cores in all)"]
    for key, use in cpu.items():
        parts = [
            f"{name} {use.get(name, 0.0):.2f}"
            for name in ("worker", "broker", "simulator", "load", "echo")
            if use.get(name, 0.0) >= 0.005
        ]
        lines.append(f"  {key:<12} {', '.join(parts)}; other processes {use['foreign']:.2f}")
    noisy = [key for key, use in cpu.items() if use["foreign"] > FOREIGN_WARN_CORES]
    if noisy:
        lines.append(
            f"  WARNING: other processes used > {FOREIGN_WARN_CORES} cores during {', '.join(noisy)}: "
            "those figures understate what this machine can do"
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
