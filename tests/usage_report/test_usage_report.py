"""The usage report: deduplication, exact totals, time ranges, grouping, percentiles, repricing and renderings."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from gateway.catalog import ModelSpec
from gateway.errors import ConfigError
from gateway.settings import load_settings
from gateway.usage_report.aggregate import percentile
from gateway.usage_report.build import build_report, parse_by
from gateway.usage_report.html import render_html
from gateway.usage_report.render import render
from gateway.usage_report.timerange import TimeRange, parse_duration_ms, parse_instant_ms, time_range
from schemas.usage import UsageEvent

DAY_MS = 86_400_000
T0 = 1_764_547_200_000  # 2025-12-01T00:00:00Z


def event(n: int, **fields: Any) -> UsageEvent:
    doc: dict[str, Any] = {
        "request_id": f"r{n}",
        "tenant": "acme",
        "user": f"u{n % 3}",
        "task": "chat",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "status": "ok",
        "input_tokens": 1000,
        "cached_input_tokens": 400,
        "output_tokens": 100,
        # 600 x 0.15 + 400 x 0.075 + 100 x 0.60 = 180 micro-USD
        "cost_usd": 0.00018,
        "price_source": "genai-prices@0.2.3",
        "cached": False,
        "latency_ms": float(10 * n),
        "attempts": 1,
        "ts_ms": T0 + n * 1000,
    }
    doc.update(fields)
    return UsageEvent.model_validate(doc)


EVENTS = [
    *(event(n) for n in range(1, 11)),
    event(11, tenant="globex", model="claude-sonnet-4", provider="anthropic", cache_write_tokens=200,
          cached_input_tokens=300, output_tokens=50, cost_usd=0.0026, ts_ms=T0 + DAY_MS),
    event(12, tenant="globex", cached=True, cost_usd=0.0, saved_usd=0.00018, attempts=0),
    event(13, tenant="globex", status="error", error_code="all_providers_failed", model=None, provider=None,
          input_tokens=0, cached_input_tokens=0, output_tokens=0, cost_usd=0.0),
    event(14, tenant="globex", model="ft:private", cost_usd=None, price_known=False, price_source=None),
]  # fmt: skip
EVERYTHING = TimeRange()


def test_a_repeated_event_is_counted_once() -> None:
    report, _ = build_report([*EVENTS, EVENTS[0], EVENTS[10]], ("tenant",), EVERYTHING)
    assert report.total.requests == len(EVENTS)
    assert report.total_row()["cost_usd"] == sum((Decimal(repr(e.cost_usd or 0)) for e in EVENTS), Decimal(0))


def test_the_report_drops_redeliveries_by_event_id() -> None:
    redelivered = EVENTS[0].model_copy(update={"latency_ms": 999.0, "ts_ms": EVENTS[0].ts_ms + 5})
    assert redelivered.event_id == EVENTS[0].event_id
    report, _ = build_report([*EVENTS, redelivered], ("tenant",), EVERYTHING)
    assert report.total.requests == len(EVENTS)


def test_totals_are_the_exact_sums_of_the_events() -> None:
    report, _ = build_report(EVENTS, ("tenant", "model"), EVERYTHING)
    rows = {(r["tenant"], r["model"]): r for r in report.rows()}
    acme = rows[("acme", "gpt-4o-mini")]
    assert acme["requests"] == 10 and acme["cost_usd"] == Decimal("0.0018")  # exactly 10 x 0.00018
    assert (acme["input_tokens"], acme["cached_input_tokens"], acme["output_tokens"]) == (10_000, 4_000, 1_000)
    total = report.total_row()
    assert total["cost_usd"] == Decimal("0.0018") + Decimal("0.0026")
    assert total["saved_usd"] == Decimal("0.00018") and total["unpriced"] == 1
    assert total["cache_write_tokens"] == 200
    assert rows[("globex", "-")]["errors"] == 1
    assert total["error_rate"] == 1 / 14 and total["cache_hit_rate"] == 1 / 14


def test_latency_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None
    row = build_report(EVENTS[:10], ("tenant",), EVERYTHING)[0].rows()[0]
    assert (row["p50_ms"], row["p95_ms"], row["p99_ms"]) == (50.0, 100.0, 100.0)


def test_the_time_range_keeps_only_events_inside_it() -> None:
    window = TimeRange(T0 + 3_000, T0 + 6_000)  # r3, r4, r5
    report, _ = build_report(EVENTS, ("tenant",), window)
    assert report.total.requests == 3


def test_time_flags() -> None:
    assert parse_duration_ms("1h") == 3_600_000 and parse_duration_ms("30m") == 1_800_000
    assert parse_instant_ms("2025-12-01") == T0 == parse_instant_ms("2025-12-01T00:00:00Z")
    assert parse_instant_ms(str(T0)) == T0
    assert time_range("1h", None, None, now_ms=T0) == TimeRange(T0 - 3_600_000, None)
    assert time_range(None, "2025-12-01", "2025-12-02", now_ms=0) == TimeRange(T0, T0 + DAY_MS)
    for bad in [("1h", "2025-12-01", None), (None, "2025-12-02", "2025-12-01"), ("1y", None, None)]:
        with pytest.raises(ConfigError):
            time_range(*bad, now_ms=T0)


def test_group_fields_are_checked() -> None:
    assert parse_by("tenant, model") == ("tenant", "model")
    with pytest.raises(ConfigError, match="request_id"):
        parse_by("tenant,request_id")


def test_reprice_shows_exactly_the_difference_of_a_price_override() -> None:
    settings = load_settings()
    # A negotiated input rate of $0.10 instead of the list $0.15 on gpt-4o-mini: each acme event has 600 uncached
    # input tokens, so it costs 600 x 0.05 micro-USD = $0.00003 less; ten of them $0.0003.
    models = {**settings.models, "gpt-4o-mini": ModelSpec(provider="openai", upstream="gpt-4o-mini",
                                                          input_usd_per_mtok=0.10)}  # fmt: skip
    report, _ = build_report(EVENTS, ("tenant", "model"), EVERYTHING, reprice_with=models)
    rows = {(r["tenant"], r["model"]): r for r in report.rows()}
    assert rows[("acme", "gpt-4o-mini")]["reprice_diff_usd"] == Decimal("-0.0003")
    # Sonnet 4 unchanged: 1,000 in = 500 plain + 300 read + 200 write; 500x3 + 300x0.3 + 200x3.75 + 50x15 = 3,090.
    assert rows[("globex", "claude-sonnet-4")]["repriced_usd"] == Decimal("0.00309")
    assert rows[("globex", "gpt-4o-mini")]["repriced_usd"] == 0  # the cache hit still costs nothing


def test_renderings_carry_the_same_totals() -> None:
    report, _ = build_report(EVENTS, ("tenant", "model"), EVERYTHING, reprice_with=load_settings().models)
    doc = json.loads(render(report, "json"))
    assert doc["by"] == ["tenant", "model"] and doc["total"]["requests"] == 14
    assert Decimal(repr(doc["total"]["cost_usd"])) == Decimal("0.0044")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert rows[-1]["tenant"] == "TOTAL" and Decimal(rows[-1]["cost_usd"]) == Decimal("0.0044")
    table = render(report, "table").splitlines()
    assert table[0].split()[:3] == ["tenant", "model", "reqs"] and table[-1].startswith("TOTAL")
    assert "0.004400" in table[-1]


def test_the_html_report_is_self_contained_with_three_charts() -> None:
    report, charts = build_report(EVENTS, ("tenant",), EVERYTHING)
    page = render_html(report, charts, title="usage", generated_ms=T0)
    assert page.count("<svg") == 3 and "<script" not in page
    assert re.findall(r"(?:src|href)=\"https?://", page) == [] and "@import" not in page
    assert "Cost per day by tenant" in page and "2025-12-01" in page and "2025-12-02" in page
    assert "globex" in page and "acme" in page


def test_the_batch_lane_shows_what_it_saved() -> None:
    batch = [event(100 + n, lane="batch", batch_job_id="sgb_1", cost_usd=0.00009, lane_saved_usd=0.00009)
             for n in range(3)]  # fmt: skip
    report, _ = build_report([*EVENTS, *batch], ("lane",), EVERYTHING)
    rows = {r["lane"]: r for r in report.rows()}
    assert rows["batch"]["requests"] == 3 and rows["batch"]["batch_saved_usd"] == Decimal("0.00027")
    assert rows["interactive"]["batch_saved_usd"] == 0
    assert report.total_row()["batch_requests"] == 3
    assert "batch saved $" in render(report, "table")
