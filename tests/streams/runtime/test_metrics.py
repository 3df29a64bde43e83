"""Metric conventions: bounded labels (no user ids, tenants only on the allow-list), values from the usage event."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from schemas.usage import UsageEvent
from streams.runtime import metrics


def usage(n: int, **fields: Any) -> UsageEvent:
    doc: dict[str, Any] = {
        "request_id": f"req-{n}",
        "tenant": f"tenant-{n % 500}",
        "user": f"user-{n}",
        "task": "chat",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "status": "ok",
        "input_tokens": 100,
        "cached_input_tokens": 40,
        "output_tokens": 10,
        "reasoning_tokens": 4,
        "cost_usd": 0.000015,
        "cached": False,
        "latency_ms": 120.0,
        "attempts": 1,
        "ts_ms": 0,
    }
    doc.update(fields)
    return UsageEvent.model_validate(doc)


def series(registry: CollectorRegistry) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in registry.collect()
        for sample in family.samples
    }


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def test_label_cardinality_stays_bounded_with_ten_thousand_users() -> None:
    allowed = frozenset({"tenant-1", "tenant-2"})
    attempts = [("openai", "gpt-4o-mini", "ok")]
    for n in range(100):
        metrics.observe_usage(usage(n), attempts, allowed)
    before = series(metrics.REGISTRY)
    for n in range(100, 10_100):
        metrics.observe_usage(usage(n), attempts, allowed)
    after = series(metrics.REGISTRY)
    assert after == before  # 10,000 more users and 500 tenants: not one new series
    labels = {value for _, pairs in after for _, value in pairs}
    assert not any(v.startswith(("user-", "req-")) for v in labels)
    assert {v for v in labels if v.startswith("tenant-")} == {"tenant-1", "tenant-2"}


def test_values_follow_the_usage_events() -> None:
    allowed = frozenset({"vip"})
    base_cost = sample("streamgate_cost_usd_total", model="o4-mini", tenant="vip")
    base_reasoning = sample("streamgate_tokens_total", model="o4-mini", kind="reasoning")
    base_cached = sample("streamgate_tokens_total", model="o4-mini", kind="cached_input")
    for n in range(3):
        metrics.observe_usage(usage(n, tenant="vip", model="o4-mini"), [], allowed)
    metrics.observe_usage(
        usage(9, tenant="vip", model="o4-mini", cached=True, cost_usd=0.0, saved_usd=0.5), [], allowed
    )
    metrics.observe_usage(usage(10, model="o4-mini", cost_usd=None, price_known=False), [], allowed)
    metrics.observe_usage(
        usage(11, status="rejected", error_code="budget_exhausted", model=None, input_tokens=0, output_tokens=0),
        [],
        allowed,
    )
    assert sample("streamgate_cost_usd_total", model="o4-mini", tenant="vip") - base_cost == 3 * 0.000015
    assert sample("streamgate_tokens_total", model="o4-mini", kind="reasoning") - base_reasoning == 4 * 4
    assert sample("streamgate_tokens_total", model="o4-mini", kind="cached_input") - base_cached == 40 * 4
    assert sample("streamgate_saved_usd_total", model="o4-mini", tenant="vip") >= 0.5
    assert sample("streamgate_unpriced_requests_total", model="o4-mini") >= 1
    assert sample("streamgate_rejections_total", code="budget_exhausted") >= 1
    assert sample("streamgate_requests_total", stage="screen", outcome="rejected") >= 1
    assert sample("streamgate_requests_total", stage="cache", outcome="hit") >= 1


def test_the_deciding_stage_of_each_outcome() -> None:
    assert metrics.deciding_stage(usage(1)) == "validate"
    assert metrics.deciding_stage(usage(1, cached=True)) == "cache"
    assert metrics.deciding_stage(usage(1, status="rejected", error_code="model_not_found")) == "route"
    assert metrics.deciding_stage(usage(1, status="rejected", error_code="rate_limited")) == "screen"
    assert metrics.deciding_stage(usage(1, status="error", error_code="provider_timeout")) == "complete"
    assert metrics.deciding_stage(usage(1, status="error", error_code="output_invalid")) == "validate"


def test_consumer_lag_is_summed_per_topic() -> None:
    from faust.types import TP

    ends = {TP("llm.requests", 0): 10, TP("llm.requests", 1): 7, TP("streamgate.settle", 0): 3}
    committed = {TP("llm.requests", 0): 8, TP("streamgate.settle", 0): 3}
    metrics.set_consumer_lag(ends, committed)
    assert sample("streamgate_consumer_lag_events", topic="llm.requests") == 2 + 7
    assert sample("streamgate_consumer_lag_events", topic="streamgate.settle") == 0


def test_the_standard_process_and_python_metrics_are_exported() -> None:
    text = metrics.render().decode()
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "python_info"):
        assert f"\n{name}" in text, name
    assert "python_gc_collections_total{generation=" in text
