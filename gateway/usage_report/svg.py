"""Small inline-SVG bar charts (no JavaScript, no external assets): stacked and grouped bars with axes and legend."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
WIDTH, HEIGHT = 760, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 150, 30, 60


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1.0
    exponent = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _axis_label(value: float, unit: str) -> str:
    if unit == "$":
        return f"${value:.4g}"
    return f"{value:.4g}"


def _frame(title: str, top: float, unit: str) -> list[str]:
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f'<text x="{_LEFT}" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        y = _TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_axis_label(value, unit)}</text>')
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        y = _TOP + 16 * i
        x = WIDTH - _RIGHT + 16
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 9}">{escape(name[:18])}</text>')
    return parts


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    stacked: bool,
    unit: str = "",
) -> str:
    """Bars per category, one colour per series, stacked or side by side; ``unit`` ``"$"`` labels the axis in USD."""
    if not categories:
        empty = f'<text y="20">{escape(title)}: no data</text>'
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="40">{empty}</svg>'
    names = list(series)
    if stacked:
        peak = max(sum(series[n][i] for n in names) for i in range(len(categories)))
    else:
        peak = max((max(values) for values in series.values() if values), default=0.0)
    top = _nice_max(peak)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_w / len(categories)
    bar_w = slot * 0.7 / (1 if stacked else max(1, len(names)))
    parts = _frame(title, top, unit)
    for i, category in enumerate(categories):
        x0 = _LEFT + slot * i + slot * 0.15
        base = 0.0
        for s, name in enumerate(names):
            value = series[name][i]
            h = plot_h * value / top
            x = x0 if stacked else x0 + bar_w * s
            y = _TOP + plot_h - h - (plot_h * base / top if stacked else 0)
            tip = f"{name} {category}: {_axis_label(value, unit)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
            )
            if stacked:
                base += value
        label_x = _LEFT + slot * i + slot / 2
        label_y = _TOP + plot_h + 14
        parts.append(f'<text x="{label_x:.1f}" y="{label_y}" text-anchor="middle">{escape(category[:14])}</text>')
    parts.extend(_legend(names))
    parts.append("</svg>")
    return "\n".join(parts)
