"""One pass over usage events: filter by time, deduplicate, aggregate (and reprice), gather chart data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gateway.catalog import ModelSpec
from gateway.errors import ConfigError
from gateway.usage_report.aggregate import GROUP_FIELDS, GroupField, Report, dedupe
from gateway.usage_report.html import ChartData
from gateway.usage_report.reprice import repriced_usd
from gateway.usage_report.timerange import TimeRange
from schemas.usage import UsageEvent


def parse_by(text: str) -> tuple[GroupField, ...]:
    """``--by tenant,model`` as group fields (any of tenant, user, task, model, lane)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    fields: list[GroupField] = []
    for name in names:
        field = next((f for f in GROUP_FIELDS if f == name), None)
        if field is None:
            raise ConfigError(f"cannot group by {name!r}: use any of {', '.join(GROUP_FIELDS)}")
        fields.append(field)
    if not fields:
        raise ConfigError("--by needs at least one of tenant, user, task, model, lane")
    return tuple(fields)


def build_report(
    events: Iterable[UsageEvent],
    by: Sequence[GroupField],
    window: TimeRange,
    *,
    reprice_with: Mapping[str, ModelSpec] | None = None,
) -> tuple[Report, ChartData]:
    """The report and chart data of the events in ``window``, each request once; with ``reprice_with`` (the
    current catalog) every event is also priced again."""
    report = Report(tuple(by), repriced=reprice_with is not None)
    charts = ChartData()
    for event in dedupe(e for e in events if window.contains(e.ts_ms)):
        report.add(event, repriced_usd(event, reprice_with) if reprice_with is not None else None)
        charts.add(event)
    return report, charts
