"""Prometheus metrics of a worker, served at ``/metrics`` on the worker's web port.

Conventions: base units (seconds, USD, tokens), ``_total`` counters, ``_seconds`` histograms, and bounded label
sets: never a user or request id; a ``tenant`` label only for tenants on the ``metrics.tenants`` allow-list (every
other tenant is ``"other"``); ``model`` is a catalog name and ``code`` a stable :class:`~schemas.codes.ErrorCode`.
The request-level updates run once per request in the account stage (a few dict lookups and lock-free increments).
The registry also carries prometheus_client's standard process (``process_*``: CPU, memory, file descriptors),
platform (``python_info``) and garbage-collector (``python_gc_*``) metrics.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from schemas.alert import BudgetAlert
from schemas.usage import UsageEvent

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
OTHER_TENANT = "other"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)

RESULTS = Counter("streamgate_results_total", "Results emitted", ["status", "code", "cached"], registry=REGISTRY)
REQUESTS = Counter(
    "streamgate_requests_total",
    "Requests by the stage that decided their outcome (screen, route, cache, complete, validate) and the outcome",
    ["stage", "outcome"],
    registry=REGISTRY,
)
REJECTIONS = Counter("streamgate_rejections_total", "Rejected requests by code", ["code"], registry=REGISTRY)
TOKENS = Counter(
    "streamgate_tokens_total",
    "Tokens billed by providers, by kind (input and output are totals; cached_input, cache_write and reasoning "
    "are parts of them); cache hits are not counted",
    ["model", "kind"],
    registry=REGISTRY,
)
COST = Counter("streamgate_cost_usd_total", "List cost accounted in USD", ["model", "tenant"], registry=REGISTRY)
SAVED = Counter("streamgate_saved_usd_total", "Cost saved by cache hits in USD", ["model", "tenant"], registry=REGISTRY)
UNPRICED = Counter(
    "streamgate_unpriced_requests_total",
    "Answered requests whose model has no known price",
    ["model"],
    registry=REGISTRY,
)
CACHE_HITS = Counter(
    "streamgate_cache_hits_total",
    "Answers served from the cache, by kind (exact, semantic, coalesced)",
    ["kind"],
    registry=REGISTRY,
)
GUARD_VERDICTS = Counter(
    "streamgate_guard_verdicts_total", "Guard verdicts (hook for the guards)", ["guard", "verdict"], registry=REGISTRY
)
LATENCY = Histogram(
    "streamgate_request_latency_seconds",
    "End-to-end latency: received by the gateway to result emitted",
    ["status"],
    registry=REGISTRY,
    buckets=_LATENCY_BUCKETS,
)
STAGE_LATENCY = Histogram(
    "streamgate_stage_duration_seconds",
    "Time a request spends in one in-process stage",
    ["stage"],
    registry=REGISTRY,
    buckets=_LATENCY_BUCKETS,
)
DEAD_LETTERS = Counter(
    "streamgate_dead_letters_total", "Events sent to the dead-letter topic", ["reason"], registry=REGISTRY
)
UNDELIVERABLE = Counter(
    "streamgate_undeliverable_total",
    "Events acked without a dead letter because not even a minimal one could be sent",
    registry=REGISTRY,
)
SCREENED = Counter("streamgate_screened_total", "Requests screened, by screening plan", ["plan"], registry=REGISTRY)
DIRECT_SCREENED = Counter(
    "streamgate_direct_screened_total",
    "Requests screened straight from the request topic (keyed by tenant), skipping the admit hop",
    registry=REGISTRY,
)
PROVIDER_ATTEMPTS = Counter(
    "streamgate_provider_attempts_total",
    "Provider attempts",
    ["provider", "model", "outcome"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "streamgate_breaker_open",
    "1 when the circuit of provider/model is open (0.5 half-open)",
    ["provider", "model"],
    registry=REGISTRY,
)
CACHE_ERRORS = Counter(
    "streamgate_cache_errors_total", "Cache operations that failed (the cache was bypassed)", ["op"], registry=REGISTRY
)
STREAM_CHUNKS = Counter(
    "streamgate_stream_chunks_total",
    "Chunk events of streamed answers, by outcome (sent, reset: a retry answered differently, failed: not sent)",
    ["outcome"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge("streamgate_in_flight", "Requests between screen and account in this worker", registry=REGISTRY)
PRICE_SOURCE = Gauge(
    "streamgate_price_source_info", "The list-price source in use (value 1)", ["source"], registry=REGISTRY
)
BUDGET_ALERTS = Counter(
    "streamgate_budget_alerts_total",
    "Budget alerts sent to the alerts topic (a share of a USD budget crossed), by scope, limit and share",
    ["scope", "limit", "share"],
    registry=REGISTRY,
)
BUDGET_USED = Gauge(
    "streamgate_budget_used_ratio",
    "Settled spend over the USD budget at the last alert, per allow-listed tenant ('other' for the rest)",
    ["tenant", "limit"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "streamgate_consumer_lag_events",
    "Events on this worker's assigned partitions not yet committed, per topic",
    ["topic"],
    registry=REGISTRY,
)

# Codes decided by a stage other than screen (rejected) or complete (error).
_ROUTE_CODES = frozenset({"model_not_found", "context_too_long"})
_VALIDATE_CODES = frozenset({"output_invalid"})
_TOKEN_KINDS = ("input", "cached_input", "cache_write", "output", "reasoning")


def tenant_label(tenant: str, allowed: Collection[str]) -> str:
    """The tenant's own label when it is on the allow-list, else ``"other"`` (keeps cardinality bounded)."""
    return tenant if tenant in allowed else OTHER_TENANT


def deciding_stage(usage: UsageEvent) -> str:
    """Which stage decided a request's outcome, from its usage event."""
    if usage.cached:
        return "cache"
    code = usage.error_code or ""
    if usage.status == "rejected":
        return "route" if code in _ROUTE_CODES else "screen"
    if usage.status == "error" and code not in _VALIDATE_CODES:
        return "complete"
    return "validate"


_CHILDREN: dict[tuple[int, tuple[str, ...]], Any] = {}


def _child(metric: Any, *values: str) -> Any:
    """``metric.labels(*values)``, memoised: ``labels()`` validates and sorts on every call (~7 us, most of an
    update); label sets are bounded, so is this cache."""
    key = (id(metric), values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


def observe_usage(usage: UsageEvent, attempt_log: list[tuple[str, str, str]], allowed: Collection[str]) -> None:
    """Count one settled request: outcome, latency, tokens by kind, cost, savings and its provider attempts.

    ``attempt_log`` is ``(provider, model, outcome)`` per attempt; ``allowed`` is the tenant allow-list.
    """
    code = usage.error_code or ""
    _child(RESULTS, usage.status, code, "true" if usage.cached else "false").inc()
    _child(REQUESTS, deciding_stage(usage), "hit" if usage.cached else usage.status).inc()
    _child(LATENCY, usage.status).observe(usage.latency_ms / 1000.0)
    if usage.status == "rejected":
        _child(REJECTIONS, code).inc()
    for provider, model, outcome in attempt_log:
        _child(PROVIDER_ATTEMPTS, provider, model, outcome).inc()
    name = usage.model
    if not name:
        return
    tenant = tenant_label(usage.tenant, allowed)
    if usage.cached:  # a cache hit's tokens were not billed again: they are counted as savings
        _child(CACHE_HITS, "coalesced" if usage.coalesced else (usage.cache_hit or "exact")).inc()
        if usage.saved_usd:
            _child(SAVED, name, tenant).inc(usage.saved_usd)
        return
    counts = (
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
    )
    for kind, count in zip(_TOKEN_KINDS, counts, strict=True):
        if count:
            _child(TOKENS, name, kind).inc(count)
    if usage.cost_usd is None:
        _child(UNPRICED, name).inc()
    elif usage.cost_usd:
        _child(COST, name, tenant).inc(usage.cost_usd)


def observe_alert(alert: BudgetAlert, allowed: Collection[str]) -> None:
    """Count one budget alert sent, and set the budget-used gauge of a tenant alert."""
    _child(BUDGET_ALERTS, alert.scope, alert.limit, f"{alert.share:g}").inc()
    if alert.scope == "tenant" and alert.limit_usd:
        _child(BUDGET_USED, tenant_label(alert.tenant, allowed), alert.limit).set(alert.spent_usd / alert.limit_usd)


def observe_guard(guard: str, verdict: str) -> None:
    """Count one guard verdict (the hook the guards stage calls; ``verdict`` is e.g. pass/block/fix)."""
    GUARD_VERDICTS.labels(guard=guard, verdict=verdict).inc()


def render() -> bytes:
    """The exposition text."""
    return generate_latest(REGISTRY)


def set_consumer_lag(end_offsets: Mapping[Any, int], committed: Mapping[Any, int]) -> None:
    """Set the lag gauge per topic from Faust's monitor: end offset minus committed offset per topic-partition
    (partitions with no commit yet count from 0), summed per topic."""
    lag: dict[str, int] = {}
    for tp, end in end_offsets.items():
        lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - committed.get(tp, 0))
    for topic, value in lag.items():
        CONSUMER_LAG.labels(topic=topic).set(value)
