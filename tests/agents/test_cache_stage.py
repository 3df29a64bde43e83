"""The cache stage: what the exact-match key covers, and lookup/remember against a real Redis (and a dead one)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from agents.cache import Caches, cache_key, cacheable, lookup, remember
from agents.job import Job
from gateway.cache import CachedAnswer, ResponseCache
from gateway.cache_flights import MissFlights
from gateway.settings import load_settings
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo
from tests.support.factories import make_job, make_request
from tests.support.ports import closed_redis_url

SETTINGS = load_settings()


def unique_request(**fields: Any) -> LLMRequest:
    """A request whose prompt (and so its cache key) no other test uses."""
    return make_request(f"question {uuid.uuid4().hex}", **fields)


def answered(request: LLMRequest, **fields: Any) -> Job:
    """A job as the complete stage leaves it after a fresh provider answer."""
    values: dict[str, Any] = {
        "status": "ok",
        "output": '{"city": "Paris"}',
        "parsed": {"city": "Paris"},
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input_tokens": 21,
        "output_tokens": 7,
    }
    values.update(fields)
    return make_job(request, **values)


# --- the key ----------------------------------------------------------------------------------------------------


def test_the_key_differs_by_tenant() -> None:
    request = make_request("same prompt")
    other_tenant = request.model_copy(update={"tenant": "globex"})
    assert cache_key(request, SETTINGS) != cache_key(other_tenant, SETTINGS)


def test_an_alias_the_model_name_and_the_default_share_one_key() -> None:
    keys = {cache_key(make_request("same prompt", model=m), SETTINGS) for m in ("fast", "gpt-4o-mini", None)}
    assert len(keys) == 1
    assert cache_key(make_request("same prompt", model="gpt-4o"), SETTINGS) not in keys


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "user", "content": "another prompt"}]},
        {"system": "be terse"},
        {"max_tokens": 99},
        {"temperature": 0.5},
        {"response_format": {"type": "object"}},
    ],
)
def test_everything_that_shapes_the_answer_changes_the_key(change: dict[str, Any]) -> None:
    assert cache_key(make_request("same prompt"), SETTINGS) != cache_key(
        make_request("same prompt", **change), SETTINGS
    )


def test_the_id_user_and_metadata_do_not_change_the_key() -> None:
    a = make_request("same prompt", id="a-1", user="alice", metadata={"x": 1})
    b = make_request("same prompt", id="b-2", user="bob", reply_to="other.results")
    assert cache_key(a, SETTINGS) == cache_key(b, SETTINGS)


def test_bypass_mode_is_not_cacheable() -> None:
    assert cacheable(make_request(), SETTINGS)
    assert not cacheable(make_request(cache={"mode": "bypass"}), SETTINGS)


# --- against Redis ----------------------------------------------------------------------------------------------


@pytest.fixture
def cache(redis_client: aioredis.Redis) -> Caches:
    return Caches(ResponseCache(redis_client), MissFlights())


@pytest.fixture
async def written(redis_client: aioredis.Redis) -> AsyncIterator[list[str]]:
    """Keys a test wrote; deleted at teardown."""
    keys: list[str] = []
    yield keys
    if keys:
        await redis_client.delete(*keys)


async def test_a_remembered_answer_is_found_for_the_same_prompt(
    cache: Caches, redis_client: aioredis.Redis, written: list[str]
) -> None:
    request = unique_request()
    written.append(cache_key(request, SETTINGS))
    await remember(answered(request), cache, SETTINGS)
    duplicate = request.model_copy(update={"id": f"dup-{uuid.uuid4().hex[:8]}"})
    hit = await lookup(make_job(duplicate), cache, SETTINGS)
    assert hit.cached and hit.status == "ok" and hit.finished
    assert (hit.output, hit.parsed, hit.model, hit.provider) == (
        '{"city": "Paris"}',
        {"city": "Paris"},
        "gpt-4o-mini",
        "openai",
    )
    assert (hit.input_tokens, hit.output_tokens) == (21, 7)
    assert hit.request.id == duplicate.id


def missed(found: Job, job: Job) -> bool:
    """A miss: the job goes on unanswered, as the leader of its key (its concurrent duplicates will wait for it)."""
    return not found.finished and found == job.evolve(cache_lead=cache_key(job.request, SETTINGS))


async def test_a_miss_leaves_the_job_unanswered_and_leading_its_key(cache: Caches) -> None:
    job = make_job(unique_request())
    assert missed(await lookup(job, cache, SETTINGS), job)


async def test_remember_uses_the_requests_ttl_or_the_default(
    cache: Caches, redis_client: aioredis.Redis, written: list[str]
) -> None:
    with_ttl, without = unique_request(cache={"ttl_s": 120}), unique_request()
    written.extend(cache_key(r, SETTINGS) for r in (with_ttl, without))
    await remember(answered(with_ttl), cache, SETTINGS)
    await remember(answered(without), cache, SETTINGS)
    assert 110 <= await redis_client.ttl(cache_key(with_ttl, SETTINGS)) <= 120
    default = SETTINGS.cache.ttl_s
    assert default - 10 <= await redis_client.ttl(cache_key(without, SETTINGS)) <= default


async def test_bypass_neither_writes_nor_reads(cache: Caches, redis_client: aioredis.Redis, written: list[str]) -> None:
    request = unique_request(cache={"mode": "bypass"})
    key = cache_key(request, SETTINGS)
    written.append(key)
    await remember(answered(request), cache, SETTINGS)
    assert not await redis_client.exists(key)
    stale = CachedAnswer(output="old", model="gpt-4o-mini", provider="openai", input_tokens=1, output_tokens=1)
    await cache.exact.put(key, stale, 60)
    job = make_job(request)
    assert await lookup(job, cache, SETTINGS) is job


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "error", "error": ErrorInfo(code=ErrorCode.INTERNAL_ERROR, message="x")},
        {"cached": True},
        {"output": None},
        {"model": None},
        {"provider": None},
    ],
)
async def test_only_fresh_successful_answers_are_remembered(
    cache: Caches, redis_client: aioredis.Redis, written: list[str], fields: dict[str, Any]
) -> None:
    request = unique_request()
    written.append(cache_key(request, SETTINGS))
    await remember(answered(request, **fields), cache, SETTINGS)
    assert not await redis_client.exists(cache_key(request, SETTINGS))


async def test_a_finished_job_is_not_looked_up(cache: Caches, written: list[str]) -> None:
    request = unique_request()
    written.append(cache_key(request, SETTINGS))
    await remember(answered(request), cache, SETTINGS)
    refused = make_job(request).fail(ErrorInfo(code=ErrorCode.RATE_LIMITED, message="no"), status="rejected")
    assert await lookup(refused, cache, SETTINGS) is refused


async def test_an_unreadable_entry_is_a_miss(cache: Caches, redis_client: aioredis.Redis, written: list[str]) -> None:
    request = unique_request()
    key = cache_key(request, SETTINGS)
    written.append(key)
    await redis_client.set(key, b"not a cached answer", ex=60)
    job = make_job(request)
    assert missed(await lookup(job, cache, SETTINGS), job)


async def test_a_cache_on_a_closed_port_misses_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    client = aioredis.Redis.from_url(closed_redis_url(), socket_connect_timeout=0.5)
    dead = Caches(ResponseCache(client, warn_every_s=60.0, retry_after_s=0.0), MissFlights())
    request = unique_request()
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.cache"):
            assert await dead.exact.get(cache_key(request, SETTINGS)) is None
            await remember(answered(request), dead, SETTINGS)
            job = make_job(request)
            assert missed(await lookup(job, dead, SETTINGS), job)
    finally:
        await client.aclose()
    warnings = [r for r in caplog.records if r.name == "gateway.cache"]
    assert len(warnings) == 1  # three failures, one warning per warn_every_s
