"""The durable store of the semantic index: one Redis hash per tenant, one field per cached question.

Field: the exact-cache key the question's answer lives under (it names the model, so purging one model is a
field-prefix match). Value: the namespace (everything but the question that shapes the answer), the question,
its embedding as float16 bytes and its expiry. The in-process index is rebuilt from here after a restart or a
rebalance; the answer itself stays in the exact cache, so an expired or purged answer is never served.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import numpy as np
import orjson
import redis.asyncio as aioredis

from gateway.semantic.embedder import Vector

PREFIX = "sg:sem:v1:"


@dataclass(frozen=True, slots=True)
class StoredQuestion:
    """One semantic entry as kept in Redis."""

    key: str
    namespace: str
    question: str
    vector: Vector
    expires_at: float


def store_key(tenant: str) -> str:
    """The hash of a tenant's semantic entries."""
    return f"{PREFIX}{{{tenant}}}"


class SemanticStore:
    """Reads and writes a tenant's semantic entries (callers handle Redis errors)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def add(self, tenant: str, entry: StoredQuestion, ttl_s: int) -> None:
        """Store ``entry``; the hash lives as long as its longest-lived entry."""
        value = orjson.dumps(
            {
                "ns": entry.namespace,
                "q": entry.question,
                "v": base64.b64encode(entry.vector.astype(np.float16).tobytes()).decode(),
                "exp": entry.expires_at,
            }
        )
        pipe = self._redis.pipeline(transaction=False)
        pipe.hset(store_key(tenant), entry.key, value)
        pipe.expire(store_key(tenant), ttl_s, nx=True)
        pipe.expire(store_key(tenant), ttl_s, gt=True)
        await pipe.execute()

    async def load(self, tenant: str, limit: int) -> list[StoredQuestion]:
        """The tenant's live entries, newest ``limit`` of them; expired ones are deleted on the way."""
        now = time.time()
        live: list[StoredQuestion] = []
        expired: list[bytes] = []
        async for field, raw in self._redis.hscan_iter(store_key(tenant), count=1000):
            try:
                doc = orjson.loads(raw)
                vector = np.frombuffer(base64.b64decode(doc["v"]), dtype=np.float16).astype(np.float32)
                entry = StoredQuestion(field.decode(), str(doc["ns"]), str(doc["q"]), vector, float(doc["exp"]))
            except (ValueError, KeyError, TypeError):
                expired.append(field)
                continue
            if entry.expires_at <= now:
                expired.append(field)
            else:
                live.append(entry)
        if expired:
            await self._redis.hdel(store_key(tenant), *expired)
        live.sort(key=lambda e: e.expires_at)
        return live[-limit:]

    async def forget(self, tenant: str, key: str) -> None:
        """Drop one entry (its answer is gone)."""
        await self._redis.hdel(store_key(tenant), key)

    async def count(self, tenant: str) -> int:
        """How many entries the tenant has (expired ones included until the next load)."""
        return int(await self._redis.hlen(store_key(tenant)))

    async def purge(self, tenant: str, model: str | None = None) -> None:
        """Drop the tenant's entries (of one model, or all)."""
        if model is None:
            await self._redis.unlink(store_key(tenant))
            return
        marker = f"}}:{model}:"
        doomed = [f async for f, _ in self._redis.hscan_iter(store_key(tenant), count=1000) if marker in f.decode()]
        if doomed:
            await self._redis.hdel(store_key(tenant), *doomed)
