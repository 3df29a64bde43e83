"""SingleFlight coalescing, and the completion store against the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from gateway.providers.base import Completion
from gateway.resilience import (
    ChainLink,
    RedisCompletionStore,
    ResilientResult,
    SingleFlight,
    StoredCompletion,
)
from schemas.result import Attempt


async def test_single_flight_coalesces_50_concurrent_callers() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    calls = 0
    gate = asyncio.Event()

    async def work() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "answer"

    tasks = [asyncio.ensure_future(flight.do("req-1", work)) for _ in range(50)]
    await asyncio.sleep(0)
    assert "req-1" in flight and len(flight) == 1
    gate.set()
    results = await asyncio.gather(*tasks)
    assert calls == 1 and results == ["answer"] * 50
    assert len(flight) == 0  # forgotten once done: it coalesces, it does not cache
    assert await flight.do("req-1", work) == "answer" and calls == 2


async def test_single_flight_propagates_the_exception_to_every_caller() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def fail() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("provider down")

    results = await asyncio.gather(*(flight.do("k", fail) for _ in range(10)), return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, RuntimeError) and str(r) == "provider down" for r in results)
    assert len(flight) == 0


async def test_single_flight_keeps_keys_apart() -> None:
    flight: SingleFlight[int, int] = SingleFlight()
    calls: list[int] = []

    def work(key: int):  # type: ignore[no-untyped-def]
        async def run() -> int:
            calls.append(key)
            await asyncio.sleep(0)
            return key * 10

        return run

    results = await asyncio.gather(*(flight.do(k % 3, work(k % 3)) for k in range(30)))
    assert sorted(calls) == [0, 1, 2]
    assert results == [(k % 3) * 10 for k in range(30)]


async def test_single_flight_survives_a_cancelled_caller_and_cancels_unwanted_work() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.Event()
    cancelled = asyncio.Event()

    async def work() -> str:
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "done"

    first = asyncio.ensure_future(flight.do("k", work))
    second = asyncio.ensure_future(flight.do("k", work))
    await asyncio.sleep(0)
    first.cancel()  # the leader gives up; the follower still gets the answer
    await asyncio.sleep(0)
    gate.set()
    assert await second == "done"
    assert first.cancelled()

    gate.clear()
    lonely = asyncio.ensure_future(flight.do("k2", work))
    await asyncio.sleep(0)
    lonely.cancel()  # nobody wants the result any more: the work is cancelled too
    await asyncio.wait_for(cancelled.wait(), 1)
    await asyncio.sleep(0)
    assert len(flight) == 0


@pytest.fixture
async def store(redis_client: redis.asyncio.Redis) -> AsyncIterator[RedisCompletionStore]:
    prefix = f"test:resilience:{uuid.uuid4().hex}:"
    try:
        yield RedisCompletionStore(redis_client, prefix=prefix, ttl_s=120)
    finally:  # a large SCAN page: the session's Redis may hold many other keys
        keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=10_000)]
        if keys:
            await redis_client.delete(*keys)


def sample_result() -> ResilientResult:
    link = ChainLink(model="claude-3-5-haiku", provider="anthropic", upstream="claude-3-5-haiku-latest")
    completion = Completion(
        "anthropic",
        "claude-3-5-haiku-20241022",
        "Bonjour",
        12,
        3,
        "end_turn",
        cached_input_tokens=4,
        cache_write_tokens=2,
    )
    attempts = [
        Attempt(provider="openai", model="gpt-4o", outcome="provider_unavailable", latency_ms=12.5, status=503),
        Attempt(provider="anthropic", model="claude-3-5-haiku", outcome="ok", latency_ms=80.0),
    ]
    return ResilientResult(completion, link, 1, attempts)


async def test_store_round_trip(store: RedisCompletionStore) -> None:
    assert await store.get("req-1") is None
    original = sample_result()
    assert await store.put("req-1", StoredCompletion.from_result(original))
    loaded = await store.get("req-1")
    assert loaded is not None
    rebuilt = loaded.to_result()
    assert rebuilt.completion == original.completion
    assert rebuilt.attempts == original.attempts
    assert rebuilt.link_index == 1 and rebuilt.fallback_used
    assert (rebuilt.link.model, rebuilt.link.provider) == ("claude-3-5-haiku", "anthropic")


async def test_store_first_write_wins_and_expires(store: RedisCompletionStore) -> None:
    first = StoredCompletion.from_result(sample_result())
    second = first.model_copy(update={"text": "other"})
    assert await store.put("req-2", first)
    assert not await store.put("req-2", second)
    loaded = await store.get("req-2")
    assert loaded is not None and loaded.text == "Bonjour"
    ttl = await store._redis.ttl(store.key("req-2"))
    assert 0 < ttl <= 120


async def test_store_ignores_unreadable_entries(store: RedisCompletionStore) -> None:
    await store._redis.set(store.key("req-3"), b"{not json")
    assert await store.get("req-3") is None
