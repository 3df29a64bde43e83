"""The semantic cache through the cache stage, with the real MiniLM model and a real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest
import redis.asyncio as aioredis

from agents.cache import Caches, lookup, remember
from agents.job import Job
from gateway.cache import STATS_PREFIX, ResponseCache, scope_pattern
from gateway.cache_admin import purge, tenant_stats
from gateway.cache_flights import MissFlights
from gateway.cache_policy import CacheRule, CacheSettings
from gateway.semantic.embedder import MiniLMEmbedder
from gateway.semantic.index import TenantIndex
from gateway.semantic.service import SemanticCache
from gateway.semantic.store import SemanticStore
from gateway.settings import load_settings
from tests.support.factories import make_job, make_request
from tests.support.ports import closed_redis_url

SEMANTIC = {"mode": "semantic"}
SETTINGS = load_settings()


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture
def tenant() -> str:
    return f"sem-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def client(redis_url: str, tenant: str) -> AsyncIterator[aioredis.Redis]:
    redis_client = aioredis.Redis.from_url(redis_url)
    yield redis_client
    await purge(redis_client, tenant)
    await redis_client.delete(f"{STATS_PREFIX}{tenant}")
    await redis_client.aclose()


def caches_over(client: aioredis.Redis, embedder: MiniLMEmbedder, **options: Any) -> Caches:
    semantic = SemanticCache(SemanticStore(client), lambda: embedder, max_entries=options.get("max_entries", 100),
                             restructured_threshold=0.8)  # fmt: skip
    return Caches(ResponseCache(client), MissFlights(), semantic)


@pytest.fixture
def caches(client: aioredis.Redis, embedder: MiniLMEmbedder) -> Iterator[Caches]:
    built = caches_over(client, embedder)
    yield built
    assert built.semantic is not None
    built.semantic.close()


async def answered(caches: Caches, text: str, settings: Any = SETTINGS, **fields: Any) -> Job:
    """Ask ``text`` (a miss) and store a fresh answer for it."""
    job = await lookup(make_job(make_request(text, **fields)), caches, settings)
    assert not job.finished, job
    job = job.evolve(status="ok", output=f"answer to {text}", model="gpt-4o-mini", provider="openai",
                     input_tokens=10, output_tokens=5)  # fmt: skip
    await remember(job, caches, settings)
    return job


async def ask(caches: Caches, text: str, settings: Any = SETTINGS, **fields: Any) -> Job:
    job = await lookup(make_job(make_request(text, **fields)), caches, settings)
    if job.cache_lead is not None:
        caches.flights.settle(job.cache_lead, None)
    return job


async def test_a_paraphrase_is_served_with_its_similarity(caches: Caches, tenant: str) -> None:
    await answered(caches, "How do I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    hit = await ask(caches, "How can I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    assert hit.cached and hit.cache_hit == "semantic" and hit.output == "answer to How do I cancel my mobile contract?"
    assert hit.cache_similarity is not None and 0.8 <= hit.cache_similarity < 1.0
    await caches.exact.flush_counts()
    stats = await tenant_stats(caches.exact.redis, tenant)
    assert (stats["hits_semantic"], stats["semantic_entries"]) == (1, 1) and stats["saved_usd"] > 0


async def test_an_exact_repeat_in_semantic_mode_is_an_exact_hit(caches: Caches, tenant: str) -> None:
    await answered(caches, "What is the notice period to end my tenancy?", tenant=tenant, cache=SEMANTIC)
    hit = await ask(caches, "What is the notice period to end my tenancy?", tenant=tenant, cache=SEMANTIC)
    assert hit.cache_hit == "exact" and hit.cache_similarity is None


@pytest.mark.parametrize(
    "near_miss",
    ["Don't cancel my mobile contract", "How do I cancel my broadband contract?",
     "How do I cancel my mobile contract in 2027?"],
)  # fmt: skip
async def test_near_misses_are_refused(caches: Caches, tenant: str, near_miss: str) -> None:
    await answered(caches, "How do I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    assert not (await ask(caches, near_miss, tenant=tenant, cache=SEMANTIC)).cached


async def test_no_hit_crosses_tenants_models_or_parameters(caches: Caches, tenant: str) -> None:
    await answered(caches, "How do I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    same = "How can I cancel my mobile contract?"
    other_tenant = f"{tenant}-other"
    assert not (await ask(caches, same, tenant=other_tenant, cache=SEMANTIC)).cached
    assert not (await ask(caches, "How do I cancel my mobile contract?", tenant=other_tenant, cache=SEMANTIC)).cached
    for change in ({"model": "gpt-4o"}, {"max_tokens": 99}, {"temperature": 0.0}, {"seed": 3}, {"system": "terse"}):
        assert not (await ask(caches, same, tenant=tenant, cache=SEMANTIC, **change)).cached, change
    assert (await ask(caches, same, tenant=tenant, cache=SEMANTIC)).cached  # the control: same namespace hits
    await caches.exact.redis.delete(f"{STATS_PREFIX}{other_tenant}")


async def test_semantic_is_off_unless_the_request_or_the_tenant_policy_asks(caches: Caches, tenant: str) -> None:
    await answered(caches, "How do I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    assert not (await ask(caches, "How can I cancel my mobile contract?", tenant=tenant)).cached
    opted = load_settings(cache=CacheSettings(tenants={tenant: CacheRule(semantic=True)}))
    assert (await ask(caches, "How can I cancel my mobile contract?", opted, tenant=tenant)).cached


class CountingEmbedder:
    """The real model, counting the questions it embeds (an embedding is the semantic cache's main cost)."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner, self.embedded = inner, 0
        self.dimensions, self.model = inner.dimensions, inner.model

    def embed(self, text: str) -> Any:
        return self.embed_many([text])[0]

    def embed_many(self, texts: Any) -> Any:
        self.embedded += len(texts)
        return self.inner.embed_many(texts)


async def test_only_tenants_with_semantic_caching_pay_for_embeddings(
    client: aioredis.Redis, embedder: MiniLMEmbedder, tenant: str
) -> None:
    counting, loaded = CountingEmbedder(embedder), []
    semantic = SemanticCache(SemanticStore(client), lambda: loaded.append(1) or counting,  # type: ignore[func-returns-value]
                             max_entries=100, restructured_threshold=0.8)  # fmt: skip
    caches = Caches(ResponseCache(client), MissFlights(), semantic)
    try:
        await answered(caches, "How do I cancel my mobile contract?", tenant=tenant)
        assert not (await ask(caches, "How can I cancel my mobile contract?", tenant=tenant)).cached
        assert (loaded, counting.embedded) == ([], 0)  # never embedded, the model not even loaded
        opted = load_settings(cache=CacheSettings(tenants={tenant: CacheRule(semantic=True)}))
        await answered(caches, "How do I cancel my broadband contract?", opted, tenant=tenant)
        assert (await ask(caches, "How can I cancel my broadband contract?", opted, tenant=tenant)).cached
        assert counting.embedded == 2  # the question remembered and the paraphrase looked up (the first lookup
        # of an empty index embeds nothing)
    finally:
        semantic.close()


async def test_the_index_is_rebuilt_from_redis_after_a_restart_and_a_rebalance(
    client: aioredis.Redis, embedder: MiniLMEmbedder, caches: Caches, tenant: str
) -> None:
    await answered(caches, "How do I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    restarted = caches_over(client, embedder)  # a new worker process: empty memory, same Redis
    assert (await ask(restarted, "How can I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)).cached
    # Another worker answered for the tenant while this one did not own it; after the rebalance we see it.
    await answered(restarted, "Where do I renew my bus pass?", tenant=tenant, cache=SEMANTIC)
    assert not (await ask(caches, "Where can I renew my bus pass?", tenant=tenant, cache=SEMANTIC)).cached
    assert caches.semantic is not None
    caches.semantic.generation = lambda: 1
    assert (await ask(caches, "Where can I renew my bus pass?", tenant=tenant, cache=SEMANTIC)).cached
    assert restarted.semantic is not None
    restarted.semantic.close()


async def test_an_answer_gone_from_the_exact_cache_is_never_served(caches: Caches, tenant: str) -> None:
    await answered(caches, "How do I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)
    exact_keys = [k async for k in caches.exact.redis.scan_iter(match=scope_pattern(tenant))]
    await caches.exact.redis.unlink(*exact_keys)
    assert not (await ask(caches, "How can I cancel my mobile contract?", tenant=tenant, cache=SEMANTIC)).cached
    assert await SemanticStore(caches.exact.redis).count(tenant) == 0  # the dangling entry was dropped


def test_the_index_is_bounded_and_evicts_the_oldest() -> None:
    index = TenantIndex(capacity=3, dimensions=4)
    vector = np.array([1, 0, 0, 0], dtype=np.float32)
    for i in range(4):
        index.add(f"k{i}", "ns", f"q{i}", vector, time.time() + 60)
    assert len(index) == 3
    assert {c.key for c in index.nearest("ns", vector, 0.5, k=10)} == {"k1", "k2", "k3"}
    assert index.nearest("other-ns", vector, 0.5) == []


async def test_a_dead_redis_makes_semantic_lookups_misses_not_errors(embedder: MiniLMEmbedder) -> None:
    errors: list[str] = []
    dead = aioredis.Redis.from_url(closed_redis_url(), socket_connect_timeout=0.5)
    semantic = SemanticCache(SemanticStore(dead), lambda: embedder, max_entries=10, restructured_threshold=0.8)
    caches = Caches(ResponseCache(dead, on_error=errors.append), MissFlights(), semantic)
    try:
        job = await lookup(make_job(make_request("How do I cancel?", cache=SEMANTIC)), caches, SETTINGS)
        assert not job.finished and errors
        await remember(job.evolve(status="ok", output="x", model="gpt-4o-mini", provider="openai"), caches, SETTINGS)
    finally:
        semantic.close()
        await dead.aclose()
