"""``streamgate cache stats|purge|eval`` against a real Redis and the real embedding model."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from agents.cache import Caches, lookup, remember
from gateway.cache import ResponseCache
from gateway.cache_flights import MissFlights
from gateway.settings import load_settings
from streams.cli import cache_cli
from streams.cli.main import _parser
from tests.support.factories import make_job, make_request


async def test_stats_and_purge_of_a_tenant(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(redis_url=redis_url)
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    client = aioredis.Redis.from_url(redis_url)
    caches = Caches(ResponseCache(client), MissFlights())
    request = make_request("stats please", tenant=tenant)
    job = await lookup(make_job(request), caches, settings)
    await remember(job.evolve(status="ok", output="ok", model="gpt-4o-mini", provider="openai",
                              input_tokens=10, output_tokens=2), caches, settings)  # fmt: skip
    await lookup(make_job(request.model_copy(update={"id": "again"})), caches, settings)
    await caches.exact.flush_counts()
    await client.aclose()

    await cache_cli._with_redis(_parser().parse_args(["cache", "stats", "--tenant", tenant]), settings)
    [stats] = json.loads(capsys.readouterr().out)
    assert (stats["entries"], stats["lookups"], stats["hits_exact"], stats["hit_rate"]["exact"]) == (1, 2, 1, 0.5)
    assert stats["saved_usd"] > 0
    await cache_cli._with_redis(_parser().parse_args(["cache", "purge", "--tenant", tenant]), settings)
    assert json.loads(capsys.readouterr().out)["removed"] == 1
    await cache_cli._with_redis(_parser().parse_args(["cache", "stats", "--tenant", tenant]), settings)
    assert json.loads(capsys.readouterr().out)[0]["entries"] == 0
    cleanup = aioredis.Redis.from_url(redis_url)
    await cleanup.delete(f"sg:cache:stats:{tenant}")
    await cleanup.aclose()


def test_eval_prints_precision_and_recall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {"a": "How do I cancel my mobile contract?", "b": "How can I cancel my mobile contract?", "same": True},
        {"a": "Is ibuprofen safe with alcohol?", "b": "Is ibuprofen unsafe with alcohol?", "same": False},
        {"a": "What's the weather in Paris?", "b": "Who won the World Cup in 2014?", "same": False},
    ]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cache_cli.run(_parser().parse_args(["cache", "eval", str(pairs)]), load_settings()) == 0
    out = capsys.readouterr().out
    # One right hit out of one: precision 1, but only >= 5 % at 95 % confidence.
    assert "verified:     precision 1.0000 (1/1 hits right; 95 % lower bound 0.0500), recall 1.0000 (1/1)" in out
