"""The batch store's scripts against the real Redis: park once, form jobs once, close a job on its last delivery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.batch.records import BatchEntry
from gateway.batch.store import BatchStore


def entry(rid: str, at: int, model: str = "gpt-4o-mini", tenant: str = "acme") -> BatchEntry:
    return BatchEntry(request_id=rid, tenant=tenant, provider="openai", model=model, custom_id=rid,
                      call={"model": model, "messages": [], "max_tokens": 8}, payload={}, enqueued_ms=at)  # fmt: skip


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[BatchStore]:
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    yield BatchStore(client, prefix=f"{prefix}:batch:", completion_prefix=f"{prefix}:completion:", entry_ttl_s=60,
                     lease_s=1)  # fmt: skip
    keys = await client.keys(f"{prefix}:*")
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_a_request_parks_once_and_an_answered_one_not_at_all(store: BatchStore) -> None:
    assert await store.park(entry("a", 1)) == "parked"
    assert await store.park(entry("a", 2)) == "already"
    await store._redis.set(store._completion_prefix + "acme|b", "{}")  # answered before (e.g. by its batch job)
    assert await store.park(entry("b", 3)) == "stored"
    assert await store.waiting("openai|gpt-4o-mini") == (1, 1)


async def test_two_tenants_that_pick_the_same_id_park_two_requests(store: BatchStore) -> None:
    assert await store.park(entry("same", 1)) == "parked"
    await store._redis.set(store._completion_prefix + "acme|same", "{}")  # acme's answer is not globex's
    assert await store.park(entry("same", 2, tenant="globex")) == "parked"
    job = await store.form("openai|gpt-4o-mini", max_size=2, max_age_ms=60_000, now_ms=10)
    assert job is not None and job.members == ["acme|same", "globex|same"]
    assert {e.tenant for e in (await store.entries(job)).values()} == {"acme", "globex"}


async def test_jobs_form_by_size_or_age_and_take_each_request_once(store: BatchStore) -> None:
    for i in range(5):
        await store.park(entry(f"r{i}", 1_000 + i))
    group = "openai|gpt-4o-mini"
    assert await store.form(group, max_size=10, max_age_ms=60_000, now_ms=2_000) is None  # neither full nor old
    job = await store.form(group, max_size=3, max_age_ms=60_000, now_ms=2_000)
    assert job is not None and job.members == ["acme|r0", "acme|r1", "acme|r2"] and job.state == "recorded"
    assert await store.form(group, max_size=3, max_age_ms=60_000, now_ms=2_000) is None  # 2 left: not full
    old = await store.form(group, max_size=3, max_age_ms=60_000, now_ms=70_000)  # ... but old enough
    assert old is not None and old.members == ["acme|r3", "acme|r4"]
    assert {j.key for j in await store.open_jobs()} == {job.key, old.key}
    assert set(await store.entries(job)) == {"acme|r0", "acme|r1", "acme|r2"}


async def test_the_last_delivery_closes_the_job(store: BatchStore) -> None:
    for i in range(2):
        await store.park(entry(f"d{i}", i))
    job = await store.form("openai|gpt-4o-mini", max_size=2, max_age_ms=60_000, now_ms=10)
    assert job is not None
    assert await store.update(job.model_copy(update={"state": "submitted", "batch_id": "batch_1"}))
    assert not await store.mark_delivered(job.key, "acme|d0")
    assert not await store.mark_delivered(job.key, "acme|d0")  # a repeated delivery counts once
    assert [j.done for j in await store.open_jobs()] == [1]
    assert await store.mark_delivered(job.key, "acme|d1")
    assert await store.open_jobs() == []
    assert not await store.update(job)  # a closed job is never brought back
