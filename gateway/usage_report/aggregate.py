"""Per-group totals of usage events: deduplicated by event id, costs summed exactly in decimal.

Percentiles are nearest-rank (the smallest latency with at least p % of the group's requests at or below it), so
every reported latency is one some request actually had.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from schemas.usage import UsageEvent

GroupField = Literal["tenant", "user", "task", "model", "lane"]
GROUP_FIELDS: tuple[GroupField, ...] = ("tenant", "user", "task", "model", "lane")
TOKEN_KINDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


def dedupe(events: Iterable[UsageEvent]) -> Iterator[UsageEvent]:
    """Each request once: the first event of every ``event_id`` (delivery is at-least-once; a redelivered usage
    event carries the same ``event_id``, derived from its request id)."""
    seen: set[str] = set()
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            yield event


def usd(value: float | None) -> Decimal:
    """An event's USD amount as the exact decimal of its JSON text (``None`` is 0)."""
    return Decimal(repr(value)) if value is not None else Decimal(0)


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank ``p``-th percentile of ascending ``sorted_values`` (``None`` when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class GroupStats:
    """Running totals of one group."""

    requests: int = 0
    ok: int = 0
    errors: int = 0
    rejected: int = 0
    cache_hits: int = 0
    unpriced: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOKEN_KINDS, 0))
    cost_usd: Decimal = Decimal(0)
    saved_usd: Decimal = Decimal(0)
    batch_requests: int = 0
    batch_saved_usd: Decimal = Decimal(0)
    repriced_usd: Decimal = Decimal(0)
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, event: UsageEvent, repriced: Decimal | None = None) -> None:
        """Count one (deduplicated) event; ``repriced`` is its cost at the current price table, if asked for."""
        self.requests += 1
        self.ok += event.status == "ok"
        self.errors += event.status == "error"
        self.rejected += event.status == "rejected"
        self.cache_hits += event.cached
        self.unpriced += not event.price_known
        for kind in TOKEN_KINDS:
            self.tokens[kind] += getattr(event, kind)
        self.cost_usd += usd(event.cost_usd)
        self.saved_usd += usd(event.saved_usd)
        self.batch_requests += event.lane == "batch"
        self.batch_saved_usd += usd(event.lane_saved_usd)
        if repriced is not None:
            self.repriced_usd += repriced
        self.latencies_ms.append(event.latency_ms)

    def row(self, *, repriced: bool) -> dict[str, object]:
        """The group's report columns (rates are fractions of its requests; USD as exact decimals)."""
        lat = sorted(self.latencies_ms)
        row: dict[str, object] = {
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "rejected": self.rejected,
            "error_rate": self.errors / self.requests if self.requests else 0.0,
            "cache_hit_rate": self.cache_hits / self.requests if self.requests else 0.0,
            **self.tokens,
            "cost_usd": self.cost_usd,
            "saved_usd": self.saved_usd,
            "batch_requests": self.batch_requests,
            "batch_saved_usd": self.batch_saved_usd,
            "unpriced": self.unpriced,
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "p99_ms": percentile(lat, 99),
        }
        if repriced:
            row["repriced_usd"] = self.repriced_usd
            row["reprice_diff_usd"] = self.repriced_usd - self.cost_usd
        return row


def group_key(event: UsageEvent, by: Sequence[GroupField]) -> tuple[str, ...]:
    """The values of the ``by`` fields of an event (``-`` for a missing model)."""
    return tuple(getattr(event, name) or "-" for name in by)


@dataclass
class Report:
    """Totals per group and over everything."""

    by: tuple[GroupField, ...]
    groups: dict[tuple[str, ...], GroupStats] = field(default_factory=dict)
    total: GroupStats = field(default_factory=GroupStats)
    repriced: bool = False

    def add(self, event: UsageEvent, repriced: Decimal | None = None) -> None:
        """Count one deduplicated event in its group and the total."""
        key = group_key(event, self.by)
        stats = self.groups.get(key)
        if stats is None:
            stats = self.groups[key] = GroupStats()
        stats.add(event, repriced)
        self.total.add(event, repriced)

    def rows(self) -> list[dict[str, object]]:
        """One row per group (sorted by key), each starting with its ``by`` fields."""
        return [
            {**dict(zip(self.by, key, strict=True)), **stats.row(repriced=self.repriced)}
            for key, stats in sorted(self.groups.items())
        ]

    def total_row(self) -> dict[str, object]:
        """The row over every group."""
        return {**dict.fromkeys(self.by, "TOTAL"), **self.total.row(repriced=self.repriced)}
