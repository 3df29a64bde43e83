"""The batch lane end to end: real broker, Redis, workers and the simulator's batch APIs through the SDKs.

A mixed stream of interactive and batch requests: the interactive ones are answered at once, the batch ones
through one job per provider/model, every id once, each batch request submitted to its provider once (counted by
the simulator) across a worker SIGKILL during collection and another during polling, and each batch answer costs
the batch price. A second test expires a job: requests whose deadline allows fall back to the interactive lane,
the others are answered ``batch_failed``; a batch request the cache can answer is answered at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from gateway.batch.records import JobRecord, custom_id_for
from gateway.batch.store import BatchStore
from gateway.pricing import cost_usd, price_of
from gateway.request_keys import request_key
from gateway.token_counts import TokenCounts
from streams.cli.batches_cli import open_batches
from streams.devtools.dev import DevStack
from tests.integration.helpers import duplicates, publish, request, results_for, topic_docs
from tests.support.gateway import gateway_stack, simulator_stats

pytestmark = pytest.mark.integration

GROUP_SIZE = 6  # a job is submitted when a provider/model has this many requests waiting
BATCH_ENV = {
    "STREAMGATE_COMMIT_INTERVAL_S": "0.2",
    "STREAMGATE_BATCH__MAX_SIZE": str(GROUP_SIZE),
    "STREAMGATE_BATCH__MAX_AGE_S": "600",
    "STREAMGATE_BATCH__TICK_S": "0.2",
    "STREAMGATE_BATCH__POLL_INTERVAL_S": "0.3",
    "STREAMGATE_BATCH__LEASE_S": "2",
    "STREAMGATE_BATCH__MIN_DEADLINE_S": "0",
    "STREAMGATE_BATCH__FALLBACK_MIN_S": "30",
}


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One worker with a small, size-triggered batch lane."""
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("batch"), extra_env=BATCH_ENV) as running:
        yield running


def _sim(stack: DevStack, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    assert stack.simulator_url is not None
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    req = urllib.request.Request(f"{stack.simulator_url}{path}", data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=5) as response:
        found: dict[str, Any] = json.load(response)
        return found


def _store(stack: DevStack) -> tuple[aioredis.Redis, BatchStore]:
    client = aioredis.Redis.from_url(stack.settings.redis_url)
    prefix = f"{stack.settings.app_id}:batch:"
    store = BatchStore(client, prefix=prefix, completion_prefix="-", entry_ttl_s=60, lease_s=1)
    return client, store


async def _until(check: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _batches_cli(stack: DevStack) -> list[dict[str, Any]]:
    """``streamgate batches --format json`` as an operator runs it."""
    out = subprocess.run(
        [sys.executable, "-m", "streams.cli", "batches", "--format", "json"],
        env={**os.environ, **stack.extra_env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def _batch_cost(stack: DevStack, result: dict[str, Any], lane: str) -> float:
    price = price_of(stack.settings.models[result["model"]], lane)  # type: ignore[arg-type]
    assert price is not None
    return cost_usd(price, TokenCounts(**result["usage"]))


async def test_mixed_stream_survives_sigkills_in_collection_and_polling(stack: DevStack) -> None:
    _sim(stack, "/_sim/batches", {"delay_ms": 4000, "expire_models": [], "error_rate": 0})
    client, store = _store(stack)
    interactive = [request(f"interactive question {i}") for i in range(4)]
    first = [request(f"batch question {i}", lane="batch") for i in range(3)]
    first += [request(f"batch question {i}", lane="batch", model="claude-3-5-haiku") for i in range(3)]
    await publish(stack, [*interactive, *first])
    now = await results_for(stack, [d["id"] for d in interactive], timeout_s=30)
    assert all(docs[0]["lane"] == "interactive" and docs[0]["batch_job_id"] is None for docs in now.values())

    async def parked() -> bool:
        waiting = [await store.waiting(group) for group in await store.groups()]
        return sum(count for count, _ in waiting) == len(first)

    await _until(parked, "the first batch requests to park")
    rows = _batches_cli(stack)
    assert sorted((r["provider"], r["model"], r["size"], r["state"]) for r in rows) == [
        ("anthropic", "claude-3-5-haiku", 3, "collecting"),
        ("openai", "gpt-4o-mini", 3, "collecting"),
    ]
    stack.kill("worker-0")  # SIGKILL in the middle of collection: the parked requests are in Redis only
    stack.start_worker(0)
    await stack.wait_ready()
    second = [request(f"batch question {i}", lane="batch") for i in range(3, 6)]
    second += [request(f"batch question {i}", lane="batch", model="claude-3-5-haiku") for i in range(3, 6)]
    await publish(stack, second)

    async def submitted() -> list[JobRecord]:
        jobs = await store.open_jobs()
        return jobs if len(jobs) == 2 and all(j.state == "submitted" for j in jobs) else []

    jobs = await _until(submitted, "both jobs to be submitted", timeout_s=60)
    assert sorted(j.size for j in jobs) == [GROUP_SIZE, GROUP_SIZE]
    rows = await open_batches(stack.settings)
    assert sorted((r["provider"], r["model"], r["size"]) for r in rows) == [
        ("anthropic", "claude-3-5-haiku", GROUP_SIZE),
        ("openai", "gpt-4o-mini", GROUP_SIZE),
    ]
    assert all(r["state"] in ("submitted", "in_progress") and r["batch_id"] for r in rows)
    stack.kill("worker-0")  # SIGKILL while the jobs are being polled
    stack.start_worker(0)

    batch = [*first, *second]
    found = await results_for(stack, [d["id"] for d in [*interactive, *batch]], timeout_s=90)
    await asyncio.sleep(1.5)  # time for a replayed duplicate to surface
    found = await results_for(stack, [d["id"] for d in [*interactive, *batch]])
    assert not duplicates(found)
    answers = {rid: docs[0] for rid, docs in found.items()}
    assert all(answers[d["id"]]["status"] == "ok" for d in [*interactive, *batch])
    by_model: dict[str, set[str]] = {}
    for doc in batch:
        answer = answers[doc["id"]]
        assert answer["lane"] == "batch" and answer["batch_job_id"]
        by_model.setdefault(answer["model"], set()).add(answer["batch_job_id"])
        assert answer["cost_usd"] == pytest.approx(_batch_cost(stack, answer, "batch"), abs=1e-10)
        assert answer["cost_usd"] < _batch_cost(stack, answer, "interactive")
    assert {model: len(keys) for model, keys in by_model.items()} == {"gpt-4o-mini": 1, "claude-3-5-haiku": 1}
    counts = _sim(stack, "/_sim/batches")
    submitted = counts["submissions_per_custom_id"]
    assert {d["id"]: submitted.get(_custom_id(d)) for d in batch} == {d["id"]: 1 for d in batch}
    assert counts["batches_created"] == {"gpt-4o-mini": 1, "claude-3-5-haiku-latest": 1}
    calls = simulator_stats(stack)["calls_per_request_id"]
    assert all(calls.get(d["id"]) == 1 for d in interactive)
    assert not any(d["id"] in calls for d in batch)  # no interactive call for a batch request
    usage = await topic_docs(stack, stack.settings.topics.usage, lambda rs: {d["id"] for d in batch} <= {
        r.json()["request_id"] for r in rs})  # fmt: skip
    saved = {e["request_id"]: e for e in usage if e["request_id"] in answers}
    assert all(saved[d["id"]]["lane"] == "batch" and saved[d["id"]]["lane_saved_usd"] > 0 for d in batch)
    assert await _until(lambda: _no_open_jobs(store), "the jobs to close")
    await client.aclose()


def _custom_id(doc: dict[str, Any]) -> str:
    """The custom_id a batch request is submitted under (its tenant and id)."""
    return custom_id_for(request_key(doc["tenant"], doc["id"]))


async def _no_open_jobs(store: BatchStore) -> bool:
    return not await store.open_jobs()


async def test_expired_job_falls_back_when_the_deadline_allows(stack: DevStack) -> None:
    _sim(stack, "/_sim/batches", {"delay_ms": 300, "expire_models": ["gpt-4o"], "error_rate": 0})
    soon = int(time.time() * 1000) + 20_000  # inside batch.fallback_min_s (30 s) once the job has expired
    patient = [request(f"expiring question {i}", lane="batch", model="gpt-4o") for i in range(3)]
    hurried = [request(f"hurried question {i}", lane="batch", model="gpt-4o", deadline_ms=soon) for i in range(3)]
    # A batch request the cache can answer is answered at once, with no batch job.
    cached_text = "a question answered before"
    first = request(cached_text, cache={"mode": "default"})
    await publish(stack, [first])
    await results_for(stack, [first["id"]], timeout_s=30)
    hit = request(cached_text, cache={"mode": "default"}, lane="batch")
    await publish(stack, [*patient, *hurried, hit])
    found = await results_for(stack, [d["id"] for d in [*patient, *hurried, hit]], timeout_s=60)
    answers = {rid: docs[0] for rid, docs in found.items()}
    assert answers[hit["id"]]["cached"] and answers[hit["id"]]["batch_job_id"] is None
    for doc in patient:  # expired in the batch, served interactively, priced interactively
        answer = answers[doc["id"]]
        assert answer["status"] == "ok" and answer["lane"] == "interactive" and answer["batch_job_id"]
        assert answer["cost_usd"] == pytest.approx(_batch_cost(stack, answer, "interactive"), abs=1e-10)
    for doc in hurried:
        answer = answers[doc["id"]]
        assert answer["status"] == "error" and answer["error"]["code"] == "batch_failed"
        assert answer["cost_usd"] == 0
    counts = _sim(stack, "/_sim/batches")
    assert all(counts["submissions_per_custom_id"][_custom_id(d)] == 1 for d in [*patient, *hurried])
    assert _custom_id(hit) not in counts["submissions_per_custom_id"]
    calls = simulator_stats(stack)["calls_per_request_id"]
    assert all(calls.get(d["id"]) == 1 for d in patient) and not any(d["id"] in calls for d in hurried)
