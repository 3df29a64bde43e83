"""The long-lived clients a worker needs (Redis, providers, the completer), built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from gateway.cache import ResponseCache
from gateway.call_claims import RedisCallClaims
from gateway.completion import GatewayCompleter
from gateway.providers.base import Provider
from gateway.providers.registry import build_providers
from gateway.resilience.breaker import BreakerRegistry
from gateway.resilience.idempotency import RedisCompletionStore
from gateway.resilience.provider_limits import RateTrackerRegistry
from gateway.settings import Settings


@dataclass
class Services:
    """Clients shared by every agent of a worker."""

    redis: aioredis.Redis
    cache: ResponseCache
    providers: dict[str, Provider]
    completer: GatewayCompleter
    max_request_s: float

    async def aclose(self) -> None:
        """Close connections."""
        for provider in self.providers.values():
            await provider.aclose()
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
    completer = GatewayCompleter(
        providers,
        settings.resilience,
        store=RedisCompletionStore(client, prefix=f"{settings.app_id}:completion:", ttl_s=settings.completion_ttl_s),
        breakers=BreakerRegistry(settings.resilience.breaker),
        rates=RateTrackerRegistry(settings.resilience.limits),
        claims=RedisCallClaims(client, prefix=f"{settings.app_id}:claim:"),
    )
    return Services(
        redis=client,
        cache=ResponseCache(client),
        providers=providers,
        completer=completer,
        max_request_s=settings.resilience.max_request_s,
    )
