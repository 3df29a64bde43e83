"""Operator views of the cache: per-tenant statistics and purges (``streamgate cache stats|purge``)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from gateway.cache import STATS_PREFIX, scope_pattern
from gateway.semantic.store import SemanticStore

_COUNTERS = ("lookups", "hits_exact", "hits_semantic", "hits_coalesced")


async def tenant_stats(client: aioredis.Redis, tenant: str) -> dict[str, Any]:
    """Entries, lookups, hit rates by kind and saved cost of one tenant."""
    raw = await client.hgetall(f"{STATS_PREFIX}{tenant}")
    values = {_text(k): _text(v) for k, v in raw.items()}
    counts = {name: int(values.get(name, 0)) for name in _COUNTERS}
    lookups = counts["lookups"]
    entries = 0
    async for _ in client.scan_iter(match=scope_pattern(tenant), count=1000):
        entries += 1
    return {
        "tenant": tenant,
        "entries": entries,
        "semantic_entries": await SemanticStore(client).count(tenant),
        **counts,
        "hit_rate": {
            kind: round(counts[f"hits_{kind}"] / lookups, 4) if lookups else 0.0
            for kind in ("exact", "semantic", "coalesced")
        },
        "saved_usd": round(float(values.get("saved_usd", 0.0)), 6),
    }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def known_tenants(client: aioredis.Redis) -> list[str]:
    """Tenants with counters."""
    found = []
    async for key in client.scan_iter(match=f"{STATS_PREFIX}*", count=1000):
        found.append(_text(key)[len(STATS_PREFIX) :])
    return sorted(found)


async def purge(client: aioredis.Redis, tenant: str, model: str | None = None) -> int:
    """Delete a tenant's exact entries (of one model, or all) and the matching semantic entries; how many."""
    removed = 0
    batch: list[bytes] = []
    async for key in client.scan_iter(match=scope_pattern(tenant, model), count=1000):
        batch.append(key)
        if len(batch) >= 500:
            removed += await client.unlink(*batch)
            batch.clear()
    if batch:
        removed += await client.unlink(*batch)
    await SemanticStore(client).purge(tenant, model)
    return removed
