"""``--html FILE``: a self-contained report (inline CSS and SVG, nothing fetched) with three charts: cost per day by
tenant, the latency distribution, and cost against cache savings per tenant; then the group table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from gateway.usage_report.aggregate import Report, usd
from gateway.usage_report.render import cell
from gateway.usage_report.svg import bar_chart
from schemas.usage import UsageEvent

# Latency histogram bucket upper bounds in ms (the last bucket is open-ended).
LATENCY_EDGES_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000)


@dataclass
class ChartData:
    """What the charts need, gathered from the same deduplicated events as the report."""

    cost_by_day_tenant: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_EDGES_MS) + 1))
    cost_by_tenant: dict[str, Decimal] = field(default_factory=dict)
    saved_by_tenant: dict[str, Decimal] = field(default_factory=dict)

    def add(self, event: UsageEvent) -> None:
        """Count one deduplicated event."""
        day = datetime.fromtimestamp(event.ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")
        per_tenant = self.cost_by_day_tenant[day]
        per_tenant[event.tenant] = per_tenant.get(event.tenant, Decimal(0)) + usd(event.cost_usd)
        bucket = next((i for i, edge in enumerate(LATENCY_EDGES_MS) if event.latency_ms <= edge), -1)
        self.latency_counts[bucket] += 1
        self.cost_by_tenant[event.tenant] = self.cost_by_tenant.get(event.tenant, Decimal(0)) + usd(event.cost_usd)
        self.saved_by_tenant[event.tenant] = self.saved_by_tenant.get(event.tenant, Decimal(0)) + usd(event.saved_usd)


def _ms(value: int) -> str:
    return f"{value / 1000:g}s" if value >= 1000 else f"{value}"


def _latency_labels() -> list[str]:
    """Bucket labels by their upper bound (``≤250`` ms, ``≤2.5s``), the last one open-ended."""
    return [f"≤{_ms(edge)}" for edge in LATENCY_EDGES_MS] + [f">{_ms(LATENCY_EDGES_MS[-1])}"]


def _charts(data: ChartData, total: dict[str, object]) -> list[str]:
    days = sorted(data.cost_by_day_tenant)
    tenants = sorted({t for per in data.cost_by_day_tenant.values() for t in per})
    cost_series = {t: [float(data.cost_by_day_tenant[d].get(t, 0)) for d in days] for t in tenants}
    latency = bar_chart(
        f"Latency distribution (requests per bucket, ms): p50 {cell('p50_ms', total['p50_ms'])}, "
        f"p95 {cell('p95_ms', total['p95_ms'])}, p99 {cell('p99_ms', total['p99_ms'])}",
        _latency_labels(),
        {"requests": [float(c) for c in data.latency_counts]},
        stacked=True,
    )
    savings_tenants = sorted(data.cost_by_tenant)
    savings = {
        "cost": [float(data.cost_by_tenant[t]) for t in savings_tenants],
        "saved by cache": [float(data.saved_by_tenant[t]) for t in savings_tenants],
    }
    return [
        bar_chart("Cost per day by tenant (USD)", days, cost_series, stacked=True, unit="$"),
        latency,
        bar_chart("Cost and cache savings by tenant (USD)", savings_tenants, savings, stacked=False, unit="$"),
    ]


_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px} .cards{display:flex;gap:12px;margin:12px 0 20px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px} .card b{display:block;font-size:18px}
table{border-collapse:collapse;font-size:11px;margin-top:16px} td,th{border-bottom:1px solid #eee;padding:3px 8px}
td.n{text-align:right} tr.total td{font-weight:600;border-top:2px solid #999} figure{margin:16px 0}
"""

_TABLE_COLUMNS = {
    "requests": "requests", "error_rate": "error %", "cache_hit_rate": "cache hit %", "input_tokens": "input",
    "cached_input_tokens": "cached in", "cache_write_tokens": "cache write", "output_tokens": "output",
    "reasoning_tokens": "reasoning", "cost_usd": "cost $", "saved_usd": "saved $", "unpriced": "unpriced",
    "p50_ms": "p50 ms", "p95_ms": "p95 ms", "p99_ms": "p99 ms", "repriced_usd": "repriced $",
    "reprice_diff_usd": "reprice diff $",
}  # fmt: skip


def _table(report: Report) -> str:
    numbers = [c for c in _TABLE_COLUMNS if report.repriced or not c.startswith("reprice")]
    columns = [*report.by, *numbers]
    head = "".join(f"<th>{escape(_TABLE_COLUMNS.get(c, c))}</th>" for c in columns)
    body = []
    for row, css in [*((r, "") for r in report.rows()), (report.total_row(), "total")]:
        cells = "".join(
            f"<td>{escape(str(row[c]))}</td>" if c in report.by else f'<td class="n">{cell(c, row[c])}</td>'
            for c in columns
        )
        body.append(f'<tr class="{css}">{cells}</tr>')
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f'<div style="overflow-x:auto">{table}</div>'


def render_html(report: Report, data: ChartData, *, title: str, generated_ms: int) -> str:
    """The whole report as one HTML document."""
    total = report.total_row()
    generated = datetime.fromtimestamp(generated_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    cards = [
        ("requests", str(total["requests"])),
        ("cost", f"${total['cost_usd']:.6f}"),
        ("saved by cache", f"${total['saved_usd']:.6f}"),
        ("saved by the batch lane", f"${total['batch_saved_usd']:.6f}"),
        ("cache hit rate", f"{float(str(total['cache_hit_rate'])) * 100:.1f} %"),
        ("error rate", f"{float(str(total['error_rate'])) * 100:.1f} %"),
        ("p95 latency", f"{cell('p95_ms', total['p95_ms'])} ms"),
    ]
    card_html = "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in cards)
    figures = "".join(f"<figure>{svg}</figure>" for svg in _charts(data, total))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>Generated {generated}; grouped by {escape(', '.join(report.by))}; "
        f'each request counted once.</p><div class="cards">{card_html}</div>{figures}{_table(report)}</body></html>'
    )
