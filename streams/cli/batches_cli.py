"""``streamgate batches``: the batch lane's open jobs (and the requests still being collected), from Redis."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.batch.store import BatchStore
from gateway.errors import StreamgateError
from gateway.settings import Settings

COLUMNS = ("job", "provider", "model", "size", "age_s", "state", "done", "batch_id")


def add_parser(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register the ``batches`` command."""
    batches = command("batches", "list the batch lane's open jobs: provider, model, size, age, state")
    batches.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the open jobs (exit status 0 also when there are none)."""
    try:
        rows = asyncio.run(open_batches(settings))
    except (RedisError, OSError) as exc:
        raise StreamgateError(f"cannot read the batch store at {settings.redis_url}: {exc}") from exc
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        print(render(rows))
    return 0


async def open_batches(settings: Settings, now_ms: int | None = None) -> list[dict[str, Any]]:
    """One row per group still collecting (state ``collecting``) and per open job, oldest first."""
    client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=2.0, socket_timeout=5.0)
    store = BatchStore(
        client,
        prefix=f"{settings.app_id}:batch:",
        completion_prefix=f"{settings.app_id}:completion:",
        entry_ttl_s=settings.batch.entry_ttl_s,
        lease_s=settings.batch.lease_s,
    )
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    rows: list[dict[str, Any]] = []
    try:
        for group in await store.groups():
            count, oldest = await store.waiting(group)
            if count:
                provider, model = group.split("|", 1)
                age = round((now - (oldest or now)) / 1000, 1)
                rows.append({"job": None, "provider": provider, "model": model, "size": count, "age_s": age,
                             "state": "collecting", "done": 0, "batch_id": None})  # fmt: skip
        for job in await store.open_jobs():
            state = job.provider_status if job.state == "submitted" and job.provider_status else job.state
            rows.append({"job": job.key, "provider": job.provider, "model": job.model, "size": job.size,
                         "age_s": round((now - job.created_ms) / 1000, 1), "state": state, "done": job.done,
                         "batch_id": job.batch_id})  # fmt: skip
    finally:
        await client.aclose()
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned table (``-`` for an empty cell)."""
    if not rows:
        return "no open batch jobs"
    cells = [[("-" if row[c] is None else str(row[c])) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
