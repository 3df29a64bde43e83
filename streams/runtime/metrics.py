"""Prometheus metrics of a worker, served at ``/metrics`` on the worker's web port."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from schemas.result import LLMResult

REGISTRY = CollectorRegistry(auto_describe=True)

RESULTS = Counter("streamgate_results_total", "Results emitted", ["status", "code", "cached"], registry=REGISTRY)
TOKENS = Counter("streamgate_tokens_total", "Tokens accounted", ["model", "direction"], registry=REGISTRY)
COST = Counter("streamgate_cost_usd_total", "Cost accounted in USD", ["model", "tenant"], registry=REGISTRY)
LATENCY = Histogram(
    "streamgate_request_latency_seconds",
    "Publish-to-result latency",
    ["status"],
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
DEAD_LETTERS = Counter(
    "streamgate_dead_letters_total", "Events sent to the dead-letter topic", ["reason"], registry=REGISTRY
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
CACHE_HITS = Counter(
    "streamgate_cache_hits_total", "Answers served from the cache, by kind", ["kind"], registry=REGISTRY
)
CACHE_ERRORS = Counter(
    "streamgate_cache_errors_total", "Cache operations that failed (the cache was bypassed)", ["op"], registry=REGISTRY
)
IN_FLIGHT = Gauge("streamgate_in_flight", "Requests between screen and account in this worker", registry=REGISTRY)


def observe_result(result: LLMResult, tenant: str) -> None:
    """Count one emitted result."""
    code = result.error.code.value if result.error else ""
    RESULTS.labels(status=result.status, code=code, cached=str(result.cached).lower()).inc()
    if result.cache_hit is not None:
        CACHE_HITS.labels(kind="coalesced" if result.coalesced else result.cache_hit).inc()
    LATENCY.labels(status=result.status).observe(result.latency_ms / 1000.0)
    if result.model:
        TOKENS.labels(model=result.model, direction="input").inc(result.usage.input_tokens)
        TOKENS.labels(model=result.model, direction="output").inc(result.usage.output_tokens)
        if result.cost_usd:
            COST.labels(model=result.model, tenant=tenant).inc(result.cost_usd)
    for attempt in result.attempt_log:
        PROVIDER_ATTEMPTS.labels(provider=attempt.provider, model=attempt.model, outcome=attempt.outcome).inc()


def render() -> bytes:
    """The exposition text."""
    return generate_latest(REGISTRY)
