"""RedisBatcher against a real Redis: commands issued together share one pipeline, yet every caller gets its own
reply or error; a script the server does not know is loaded on the fly; claims are renewed by one task."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from gateway.call_claims import RedisCallClaims
from gateway.redis_batch import RedisBatcher
from tests.support.ports import closed_redis_url


@pytest_asyncio.fixture
async def prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"sgtest-batch-{uuid.uuid4().hex[:8]}:"
    yield name
    keys = [key async for key in redis_client.scan_iter(match=f"{name}*")]
    if keys:
        await redis_client.delete(*keys)


class CountingBatcher(RedisBatcher):
    """Counts the pipelines it sends."""

    def __init__(self, redis_client: aioredis.Redis) -> None:
        super().__init__(redis_client)
        self.sent: list[int] = []

    async def _send(self, batch: list[Any]) -> None:
        self.sent.append(len(batch))
        await super()._send(batch)


async def test_commands_issued_together_share_one_pipeline_and_each_gets_its_reply(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    batcher = CountingBatcher(redis_client)
    await asyncio.gather(*(batcher.command("SET", f"{prefix}{n}", f"v{n}") for n in range(20)))
    replies = await asyncio.gather(*(batcher.command("GET", f"{prefix}{n}") for n in range(20)))
    assert replies == [f"v{n}".encode() for n in range(20)]
    assert batcher.sent == [20, 20]


async def test_an_error_reaches_only_the_command_that_caused_it(redis_client: aioredis.Redis, prefix: str) -> None:
    await redis_client.rpush(f"{prefix}list", "x")
    batcher = CountingBatcher(redis_client)
    outcomes = await asyncio.gather(
        batcher.command("SET", f"{prefix}a", "1"),
        batcher.command("GET", f"{prefix}list"),  # WRONGTYPE
        batcher.command("GET", f"{prefix}a"),
        return_exceptions=True,
    )
    assert outcomes[0] is True
    assert isinstance(outcomes[1], ResponseError) and "WRONGTYPE" in str(outcomes[1])
    assert outcomes[2] == b"1"
    assert batcher.sent == [3]


async def test_a_script_the_server_does_not_know_is_loaded_and_run(redis_client: aioredis.Redis, prefix: str) -> None:
    # A body never sent before has a SHA no server knows: EVALSHA answers NOSCRIPT, as after a Redis restart.
    script = redis_client.register_script(f"-- {uuid.uuid4().hex}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    batcher = RedisBatcher(redis_client)
    first, second = await asyncio.gather(
        batcher.script(script, [f"{prefix}n"], [2]), batcher.script(script, [f"{prefix}n"], [3])
    )
    assert max(first, second) == 5 and min(first, second) in (2, 3)  # both ran once, in either order
    assert await batcher.script(script, [f"{prefix}n"], [1]) == 6


async def test_every_caller_sees_a_connection_failure() -> None:
    down = aioredis.Redis.from_url(closed_redis_url(), socket_connect_timeout=0.5)
    try:
        batcher = RedisBatcher(down)
        gets = (batcher.command("GET", "a"), batcher.command("GET", "b"))
        outcomes = await asyncio.gather(*gets, return_exceptions=True)
        assert all(isinstance(outcome, RedisError | OSError) for outcome in outcomes)
    finally:
        await down.aclose()


async def test_held_claims_are_renewed_together_until_every_holder_left(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    claims = RedisCallClaims(redis_client, prefix=prefix, lease_s=1.0)
    assert await claims.claim("a") and await claims.claim("b")
    with claims.holding("a"), claims.holding("b"):
        with claims.holding("b"):  # the same id held twice (a duplicate call): one leaving keeps it renewed
            await asyncio.sleep(1.2)
        await asyncio.sleep(1.3)  # 2.5 leases in all: both would have lapsed without renewals
        assert await redis_client.exists(f"{prefix}a", f"{prefix}b") == 2
    await asyncio.sleep(1.5)
    assert await redis_client.exists(f"{prefix}a", f"{prefix}b") == 0
