"""The long-lived clients a worker needs (Redis, providers, the completer), built once from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis

from agents.cache import Caches
from gateway.batch.clients import BatchClient, build_batch_clients
from gateway.batch.store import BatchStore
from gateway.cache import ResponseCache
from gateway.cache_flights import MissFlights
from gateway.call_claims import RedisCallClaims
from gateway.completion import GatewayCompleter
from gateway.providers.base import Provider
from gateway.providers.registry import build_providers
from gateway.redis_batch import RedisBatcher
from gateway.resilience.breaker import BreakerRegistry
from gateway.resilience.idempotency import RedisCompletionStore
from gateway.resilience.provider_limits import RateTrackerRegistry
from gateway.semantic.embedder import MiniLMEmbedder
from gateway.semantic.service import SemanticCache
from gateway.semantic.store import SemanticStore
from gateway.settings import Settings
from streams.runtime import metrics


@dataclass
class Services:
    """Clients shared by every agent of a worker."""

    redis: aioredis.Redis
    cache: Caches
    providers: dict[str, Provider]
    completer: GatewayCompleter
    max_request_s: float
    batch: BatchStore | None = None
    batch_clients: dict[str, BatchClient] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Close connections."""
        await self.cache.exact.flush_counts()
        if self.cache.semantic is not None:
            self.cache.semantic.close()
        for provider in self.providers.values():
            await provider.aclose()
        for client in self.batch_clients.values():
            await client.aclose()
        await self.redis.aclose()


def build_services(settings: Settings) -> Services:
    """Create the clients (no network I/O happens until first use)."""
    client = aioredis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=0.5,
        socket_timeout=2.0,
        max_connections=512,
    )
    providers = build_providers(settings, max_connections=settings.max_in_flight)
    completions = RedisCompletionStore(client, prefix=f"{settings.app_id}:completion:", ttl_s=settings.completion_ttl_s)
    batcher = RedisBatcher(client)  # the cache's and the claims' commands of one loop iteration share a pipeline
    completer = GatewayCompleter(
        providers,
        settings.resilience,
        store=completions,
        breakers=BreakerRegistry(settings.resilience.breaker),
        rates=RateTrackerRegistry(settings.resilience.limits),
        claims=RedisCallClaims(client, prefix=f"{settings.app_id}:claim:", batcher=batcher),
    )
    exact = ResponseCache(client, on_error=lambda op: metrics.CACHE_ERRORS.labels(op=op).inc(), batcher=batcher)
    options = settings.cache
    semantic = SemanticCache(
        SemanticStore(client),
        lambda: MiniLMEmbedder(
            model=options.semantic_model, max_tokens=options.semantic_max_tokens, threads=options.embed_threads
        ),
        max_entries=options.semantic_max_entries,
        restructured_threshold=options.restructured_threshold,
    )
    if options.semantic_configured:
        # Loaded now, before any partition is consumed: on first use it would hold the event loop for seconds
        # (the model and the verifier's tables), long enough for concurrent Redis calls to time out and degrade.
        semantic.load()
    return Services(
        redis=client,
        cache=Caches(exact, MissFlights(), semantic),
        providers=providers,
        completer=completer,
        max_request_s=settings.resilience.max_request_s,
        batch=BatchStore(
            client,
            prefix=f"{settings.app_id}:batch:",
            completion_prefix=completions.prefix,
            entry_ttl_s=settings.batch.entry_ttl_s,
            lease_s=settings.batch.lease_s,
        ),
        batch_clients=build_batch_clients(settings),
    )
