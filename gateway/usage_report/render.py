"""Table, CSV and JSON renderings of a :class:`~gateway.usage_report.aggregate.Report`."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Literal

from gateway.usage_report.aggregate import Report

Format = Literal["table", "csv", "json"]

# (column, header, width) of the terminal table; CSV and JSON carry every column.
_TABLE_COLUMNS = (
    ("requests", "reqs", 6),
    ("error_rate", "err%", 6),
    ("cache_hit_rate", "hit%", 6),
    ("input_tokens", "in", 9),
    ("cached_input_tokens", "cached", 9),
    ("cache_write_tokens", "cwrite", 8),
    ("output_tokens", "out", 9),
    ("reasoning_tokens", "reason", 8),
    ("cost_usd", "cost $", 12),
    ("saved_usd", "saved $", 11),
    ("batch_saved_usd", "batch saved $", 13),
    ("unpriced", "unpriced", 8),
    ("p50_ms", "p50 ms", 8),
    ("p95_ms", "p95 ms", 8),
    ("p99_ms", "p99 ms", 8),
)
_REPRICE_COLUMNS = (("repriced_usd", "repriced $", 12), ("reprice_diff_usd", "diff $", 12))


def cell(column: str, value: object) -> str:
    """One value as a table cell: rates in percent, USD to 6 decimals, latencies in whole ms."""
    if value is None:
        return "-"
    if column.endswith("_rate") and isinstance(value, float):
        return f"{value * 100:.1f}"
    if isinstance(value, Decimal):
        return f"{value:.6f}"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def render_table(report: Report) -> str:
    """A fixed-width table, one line per group and a TOTAL line."""
    columns = _TABLE_COLUMNS + (_REPRICE_COLUMNS if report.repriced else ())
    key_widths = [max([len(name), *(len(str(k[i])) for k in report.groups)]) for i, name in enumerate(report.by)]
    header = [name.ljust(w) for name, w in zip(report.by, key_widths, strict=True)]
    header += [title.rjust(width) for _, title, width in columns]
    lines = ["  ".join(header)]
    for row in [*report.rows(), report.total_row()]:
        cells = [str(row[name]).ljust(w) for name, w in zip(report.by, key_widths, strict=True)]
        cells += [cell(column, row[column]).rjust(width) for column, _, width in columns]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def render_csv(report: Report) -> str:
    """CSV with a header; USD columns as exact decimals, the TOTAL row last."""
    rows = [*report.rows(), report.total_row()]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _jsonable(row: dict[str, object]) -> dict[str, object]:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}


def render_json(report: Report) -> str:
    """``{"by": [...], "groups": [...], "total": {...}}``; USD amounts as numbers."""
    doc = {
        "by": list(report.by),
        "groups": [_jsonable(row) for row in report.rows()],
        "total": _jsonable(report.total_row()),
    }
    return json.dumps(doc, indent=2)


def render(report: Report, fmt: Format) -> str:
    """The report in ``fmt``."""
    if fmt == "csv":
        return render_csv(report)
    if fmt == "json":
        return render_json(report)
    return render_table(report)
