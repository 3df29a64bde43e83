"""The cache stage end to end against a real Redis: stampede control, TTL expiry, counters, Redis failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from agents.cache import Caches, cache_key, lookup, remember
from agents.job import Job
from gateway.cache import STATS_PREFIX, CachedAnswer, ResponseCache
from gateway.cache_admin import purge, tenant_stats
from gateway.cache_flights import MissFlights
from gateway.settings import load_settings
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from tests.support.factories import make_job, make_request
from tests.support.ports import closed_redis_url

SETTINGS = load_settings()


def fresh_answer(job: Job) -> Job:
    """The job as the complete stage leaves it after a provider answer."""
    return job.evolve(status="ok", output="Paris.", model="gpt-4o-mini", provider="openai",
                      input_tokens=20, output_tokens=3)  # fmt: skip


@pytest.fixture
async def caches(redis_url: str) -> AsyncIterator[Caches]:
    client = aioredis.Redis.from_url(redis_url)
    yield Caches(ResponseCache(client), MissFlights())
    await client.aclose()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def cleanup(caches: Caches, tenant: str) -> AsyncIterator[None]:
    yield
    await purge(caches.exact.redis, tenant)
    await caches.exact.redis.delete(f"{STATS_PREFIX}{tenant}")


async def test_fifty_concurrent_identical_misses_make_one_provider_call(
    caches: Caches, tenant: str, cleanup: None
) -> None:
    calls: list[str] = []

    async def serve(job: Job) -> Job:
        """Cache stage, then (on a miss) a slow provider call, then remember: what the pipeline does."""
        job = await lookup(job, caches, SETTINGS)
        if not job.finished:
            calls.append(job.request.id)
            await asyncio.sleep(0.2)
            job = fresh_answer(job)
        await remember(job, caches, SETTINGS)
        return job

    jobs = [make_job(make_request("same question", tenant=tenant)) for _ in range(50)]
    done = await asyncio.gather(*(serve(job) for job in jobs))
    assert len(calls) == 1
    assert {j.request.id for j in done} == {j.request.id for j in jobs}  # each request answered as itself
    followers = [j for j in done if j.cached]
    assert len(followers) == 49 and all(j.coalesced and j.cache_hit == "exact" for j in followers)
    assert all(j.output == "Paris." for j in done)
    await caches.exact.flush_counts()
    stats = await tenant_stats(caches.exact.redis, tenant)
    assert (stats["lookups"], stats["hits_coalesced"], stats["entries"]) == (50, 49, 1)
    assert stats["saved_usd"] > 0
    assert len(caches.flights) == 0


async def test_a_failed_leader_hands_the_lead_to_a_follower_instead_of_failing_it(
    caches: Caches, tenant: str, cleanup: None
) -> None:
    request = make_request("fails first", tenant=tenant)
    leader = await lookup(make_job(request), caches, SETTINGS)
    assert leader.cache_lead is not None
    follower = asyncio.ensure_future(lookup(make_job(request.model_copy(update={"id": "f-1"})), caches, SETTINGS))
    await asyncio.sleep(0.05)
    assert not follower.done()
    await remember(leader.fail(ErrorInfo(code=ErrorCode.ALL_PROVIDERS_FAILED, message="x")), caches, SETTINGS)
    took_over = await follower
    assert not took_over.finished and took_over.cache_lead == leader.cache_lead
    await remember(fresh_answer(took_over), caches, SETTINGS)
    late = await lookup(make_job(request.model_copy(update={"id": "late"})), caches, SETTINGS)
    assert late.cached and late.cache_hit == "exact" and not late.coalesced


async def test_after_two_failed_leaders_followers_call_on_their_own(caches: Caches, tenant: str, cleanup: None) -> None:
    request = make_request("keeps failing", tenant=tenant)
    failed = ErrorInfo(code=ErrorCode.ALL_PROVIDERS_FAILED, message="x")
    first = await lookup(make_job(request), caches, SETTINGS)
    followers = [asyncio.ensure_future(lookup(make_job(request.model_copy(update={"id": f"f-{i}"})), caches,
                                              SETTINGS)) for i in range(3)]  # fmt: skip
    await asyncio.sleep(0.05)
    await remember(first.fail(failed), caches, SETTINGS)
    await asyncio.sleep(0.05)
    second = [f.result() for f in followers if f.done()]
    assert len(second) == 1 and second[0].cache_lead is not None  # one follower took the lead
    others = [f for f in followers if not f.done()]
    await remember(second[0].fail(failed), caches, SETTINGS)
    alone = [await f for f in others]
    assert len(alone) == 2 and all(not j.finished and j.cache_lead is None for j in alone)  # in parallel, unled


async def test_counts_survive_a_redis_outage_until_the_next_flush(redis_url: str, tenant: str) -> None:
    dead_client = aioredis.Redis.from_url(closed_redis_url(), socket_connect_timeout=0.5)
    cache = ResponseCache(dead_client, retry_after_s=0.0)
    cache.count_hit(tenant, "exact", 0.5)
    await cache.flush_counts()  # fails: kept
    await dead_client.aclose()
    cache.redis = aioredis.Redis.from_url(redis_url)
    cache.count_hit(tenant, None, 0.0)
    await cache.flush_counts()
    stats = await tenant_stats(cache.redis, tenant)
    assert (stats["lookups"], stats["hits_exact"], stats["saved_usd"]) == (2, 1, 0.5)
    await cache.redis.delete(f"{STATS_PREFIX}{tenant}")
    await cache.redis.aclose()


async def test_requests_that_differ_in_a_parameter_are_not_coalesced(
    caches: Caches, tenant: str, cleanup: None
) -> None:
    a = await lookup(make_job(make_request("q", tenant=tenant, seed=1)), caches, SETTINGS)
    b = await lookup(make_job(make_request("q", tenant=tenant, seed=2)), caches, SETTINGS)
    assert a.cache_lead and b.cache_lead and a.cache_lead != b.cache_lead
    for job in (a, b):
        await remember(fresh_answer(job), caches, SETTINGS)


async def test_an_entry_expires_with_its_ttl(caches: Caches, tenant: str, cleanup: None) -> None:
    request = make_request("short-lived", tenant=tenant, cache={"ttl_s": 1})
    await remember(fresh_answer(make_job(request)), caches, SETTINGS)
    again: dict[str, Any] = {"id": "again"}
    assert (await lookup(make_job(request.model_copy(update=again)), caches, SETTINGS)).cached
    await asyncio.sleep(1.3)
    expired = await lookup(make_job(request.model_copy(update={"id": "later"})), caches, SETTINGS)
    assert not expired.cached
    caches.flights.settle(cache_key(request, SETTINGS), None)


async def test_purge_by_model_keeps_the_other_models(caches: Caches, tenant: str, cleanup: None) -> None:
    mini, big = make_request("p", tenant=tenant), make_request("p", tenant=tenant, model="gpt-4o")
    for request in (mini, big):
        await remember(fresh_answer(make_job(request)), caches, SETTINGS)
    assert await purge(caches.exact.redis, tenant, "gpt-4o-mini") == 1
    assert await caches.exact.get(cache_key(mini, SETTINGS)) is None
    assert await caches.exact.get(cache_key(big, SETTINGS)) is not None


async def test_a_dead_redis_degrades_to_bypass_counts_errors_and_recovers_alone(redis_url: str) -> None:
    errors: list[str] = []
    dead_client = aioredis.Redis.from_url(closed_redis_url(), socket_connect_timeout=0.5)
    cache = ResponseCache(dead_client, retry_after_s=0.2, on_error=errors.append)
    caches = Caches(cache, MissFlights())
    request = make_request(f"q {uuid.uuid4().hex}")
    try:
        job = await lookup(make_job(request), caches, SETTINGS)
        assert not job.finished and errors  # a miss, not an error
        assert not cache.available
        await remember(fresh_answer(job), caches, SETTINGS)  # never raises
        seen = len(errors)
        await cache.get("anything")  # left alone while retry_after_s runs: no new attempt
        assert len(errors) == seen
        await asyncio.sleep(0.25)
        cache.redis = aioredis.Redis.from_url(redis_url)  # "Redis is back"
        assert cache.available
        await remember(fresh_answer(make_job(request)), caches, SETTINGS)
        assert (await lookup(make_job(request.model_copy(update={"id": "back"})), caches, SETTINGS)).cached
    finally:
        await dead_client.aclose()
        await cache.redis.delete(cache_key(request, SETTINGS), f"{STATS_PREFIX}{request.tenant}")
        await cache.redis.aclose()


async def test_a_settled_answer_is_served_until_it_is_in_the_exact_cache() -> None:
    flights = MissFlights()
    assert flights.follow_or_lead("k") is None  # lead
    answer = CachedAnswer(output="x", model="gpt-4o-mini", provider="openai", input_tokens=1, output_tokens=1)
    flights.settle("k", answer)
    late = flights.follow_or_lead("k")  # arrives while the leader is still writing to Redis
    assert late is not None and late.done() and late.result() == answer
    flights.forget("k")
    assert flights.follow_or_lead("k") is None
