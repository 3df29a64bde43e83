"""Liveness and readiness of a worker: ``/healthz`` and ``/ready`` on its web port.

``/healthz`` answers 200 whenever the event loop runs. ``/ready`` answers 200 only when the worker has joined its
consumer group (at least one rebalance done, none in progress), holds partitions, has recovered its tables and can
reach both the broker and Redis; otherwise 503. Both bodies list every check, so a failing probe says what is wrong.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import faust
import redis.asyncio as aioredis
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import ApiVersionRequest
from faust.exceptions import NotReady
from redis.exceptions import RedisError

PROBE_TIMEOUT_S = 1.0
"""How long a readiness probe waits for the broker or Redis to answer (docker's healthcheck timeout is 3 s)."""


@dataclass(frozen=True)
class ReadinessSnapshot:
    """What a worker knows about itself at one moment, gathered by :func:`take_snapshot`."""

    joined: bool
    assigned_partitions: int
    tables_recovered: bool
    broker: bool
    redis: bool


def readiness(snap: ReadinessSnapshot) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of ``/ready`` for ``snap``: 200 when every check passes, else 503.

    The body has ``ready``, each check by name (``True``/``False``), ``failing`` (the names of the failing
    checks, in a fixed order) and the number of assigned partitions.
    """
    checks = {
        "joined": snap.joined,
        "partitions_assigned": snap.assigned_partitions > 0,
        "tables_recovered": snap.tables_recovered,
        "broker": snap.broker,
        "redis": snap.redis,
    }
    failing = [name for name, passed in checks.items() if not passed]
    body: dict[str, Any] = {
        "ready": not failing,
        "checks": checks,
        "failing": failing,
        "assigned_partitions": snap.assigned_partitions,
    }
    return (503 if failing else 200), body


async def take_snapshot(app: faust.App, redis: aioredis.Redis, timeout_s: float = PROBE_TIMEOUT_S) -> ReadinessSnapshot:
    """Read the app's group and table state and probe the broker and Redis (concurrently, each bounded)."""
    broker, redis_ok = await asyncio.gather(broker_reachable(app, timeout_s), redis_reachable(redis, timeout_s))
    recovery = app.tables.recovery  # type: ignore[attr-defined]  # TableManager's, not on its abstract type
    return ReadinessSnapshot(
        joined=app.rebalancing_count > 0 and not app.rebalancing,  # a first join counts as a rebalance too
        assigned_partitions=len(app.consumer.assignment()),
        tables_recovered=recovery.completed.is_set() and not app.in_recovery,
        broker=broker,
        redis=redis_ok,
    )


async def broker_reachable(app: faust.App, timeout_s: float) -> bool:
    """True when a broker answers an ApiVersions request on the app's producer connection within ``timeout_s``."""
    try:
        client = app.producer._ensure_producer().client  # type: ignore[attr-defined]  # the aiokafka driver's
        node = client.get_random_node()
        if node is None:
            return False
        await asyncio.wait_for(client.send(node, ApiVersionRequest()), timeout_s)
    except (KafkaError, NotReady, OSError, TimeoutError):
        return False
    return True


async def redis_reachable(redis: aioredis.Redis, timeout_s: float) -> bool:
    """True when Redis answers PING within ``timeout_s``."""
    try:
        return bool(await asyncio.wait_for(redis.ping(), timeout_s))
    except (RedisError, OSError, TimeoutError):
        return False


def add_health_pages(app: faust.App, redis: aioredis.Redis) -> None:
    """Register ``/healthz`` and ``/ready`` on the app's web server."""

    @app.page("/healthz")
    async def healthz_page(web_view: Any, request: Any) -> Any:
        return web_view.json({"alive": True})

    @app.page("/ready")
    async def ready_page(web_view: Any, request: Any) -> Any:
        status, body = readiness(await take_snapshot(app, redis))
        return web_view.json(body, status=status)
