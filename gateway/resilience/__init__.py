"""The resilience core of the completion stage: plain asyncio code, no Kafka.

* :mod:`~gateway.resilience.config` — retry, breaker, limit and fallback settings
* :mod:`~gateway.resilience.backoff` — exponential backoff with full jitter and Retry-After
* :mod:`~gateway.resilience.breaker` — circuit breakers per (provider, model)
* :mod:`~gateway.resilience.provider_limits` — our own RPM/TPM accounting per (provider, model)
* :mod:`~gateway.resilience.chain` — :class:`ChainLink`, :func:`build_chain`, :class:`ResilientResult`
* :mod:`~gateway.resilience.executor` — :func:`complete_resilient`, the fallback-chain executor
* :mod:`~gateway.resilience.idempotency` — :class:`SingleFlight` and the Redis completion store
"""

from gateway.resilience.backoff import backoff_ceiling, backoff_delay
from gateway.resilience.breaker import (
    BreakerRegistry,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    counts_against_breaker,
)
from gateway.resilience.chain import ChainLink, ResilientResult, build_chain
from gateway.resilience.config import BreakerPolicy, ProviderLimit, ResilienceSettings, RetryPolicy
from gateway.resilience.errors import (
    AllLinksFailed,
    ChainDeadlineExceeded,
    LinkError,
    attempts_of,
    link_errors_of,
)
from gateway.resilience.executor import LOCAL_RATE_LIMIT, OUTCOME_OK, complete_resilient
from gateway.resilience.idempotency import (
    CompletionStore,
    RedisCompletionStore,
    SingleFlight,
    StoredCompletion,
)
from gateway.resilience.provider_limits import ProviderRateTracker, RateSnapshot, RateTrackerRegistry

__all__ = [
    "LOCAL_RATE_LIMIT",
    "OUTCOME_OK",
    "AllLinksFailed",
    "BreakerPolicy",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "ChainDeadlineExceeded",
    "ChainLink",
    "CircuitBreaker",
    "CompletionStore",
    "LinkError",
    "ProviderLimit",
    "ProviderRateTracker",
    "RateSnapshot",
    "RateTrackerRegistry",
    "RedisCompletionStore",
    "ResilienceSettings",
    "ResilientResult",
    "RetryPolicy",
    "SingleFlight",
    "StoredCompletion",
    "attempts_of",
    "backoff_ceiling",
    "backoff_delay",
    "build_chain",
    "complete_resilient",
    "counts_against_breaker",
    "link_errors_of",
]
