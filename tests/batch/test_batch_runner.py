"""The batch timer against real Redis and the simulator's batch APIs: a worker that died between the provider's
answer and recording it finds the batch instead of submitting again, and every member is handed back once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from agents import batch_lane
from agents.job import Job, RoutePlan
from agents.route import choose_route
from gateway.batch.clients import BatchClient, BatchItem
from gateway.batch.records import JobRecord
from gateway.batch.store import BatchStore
from gateway.settings import Settings, load_settings
from gateway.simulator import SimulatorServer
from gateway.simulator.config import SimulatorConfig
from streams.runtime.batch_runner import BatchRunner
from streams.runtime.services import build_services
from tests.support.factories import make_job, make_request


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(config=SimulatorConfig(batch_delay_ms=200)) as server:
        yield server


def _settings(sim: SimulatorServer, redis_url: str) -> Settings:
    return load_settings(
        redis_url=redis_url,
        app_id=f"runner-{uuid.uuid4().hex[:8]}",
        openai_base_url=sim.openai_base_url,
        anthropic_base_url=sim.anthropic_base_url,
        batch={"max_size": 3, "max_age_s": 600, "poll_interval_s": 0.05, "lease_s": 1, "min_deadline_s": 0},
    )


def _job(model: str, settings: Settings) -> Job:
    request = make_request(f"batch me {uuid.uuid4().hex[:6]}", lane="batch", model=model)
    plan = choose_route(request, settings)
    assert isinstance(plan, RoutePlan)
    return make_job(request, plan=plan, route=plan.first)


@pytest.mark.parametrize(("model", "upstream"), [("gpt-4o-mini", "gpt-4o-mini"),
                                                  ("claude-3-5-haiku", "claude-3-5-haiku-latest")])  # fmt: skip
async def test_a_job_submitted_before_a_crash_is_found_not_submitted_again(
    sim: SimulatorServer, redis_url: str, model: str, upstream: str
) -> None:
    settings = _settings(sim, redis_url)
    services = build_services(settings)
    store = services.batch
    assert store is not None
    jobs = [_job(model, settings) for _ in range(3)]
    for job in jobs:
        assert await store.park(batch_lane.entry_for(job, settings, 1_000)) == "parked"
    handed: list[tuple[str, Job]] = []

    async def deliver(stage: str, job: Job) -> None:
        handed.append((stage, job))

    runner = BatchRunner(settings, store, services.batch_clients, None, deliver)
    # The crash: a worker recorded the job, marked it submitting and created the provider batch, then died.
    provider = settings.models[model].provider
    recorded = await store.form(f"{provider}|{model}", max_size=3, max_age_ms=0, now_ms=2_000)
    assert recorded is not None
    await store.update(recorded.model_copy(update={"state": "submitting", "submitting_ms": _now_ms()}))
    client: BatchClient = services.batch_clients[recorded.provider]
    entries = await store.entries(recorded)
    items = [BatchItem(entries[r].custom_id, batch_lane.call_of(entries[r])) for r in recorded.members]
    batch_id = await client.submit(recorded.key, items)

    for _ in range(60):  # the next worker's ticks: find, poll, hand out
        await runner.tick()
        if len(handed) == 3:
            break
        await asyncio.sleep(0.05)
    assert sim.batches.created == {upstream: 1}  # found, never submitted twice
    assert set(sim.batches.submissions.values()) == {1}
    job_record = await _job_record(store, recorded.key)
    assert job_record is not None and job_record.batch_id == batch_id
    assert sorted(job.request.id for _, job in handed) == sorted(j.request.id for j in jobs)
    assert {stage for stage, _ in handed} == {"after_complete"}
    assert all(job.status == "ok" and job.lane == "batch" and job.batch_job_id == recorded.key for _, job in handed)
    for _, job in handed:  # each settlement on the broker acks its source: the last one closes the job
        job.source.ack()
    await asyncio.sleep(0.2)
    assert await store.open_jobs() == []
    await _cleanup(services.redis, settings.app_id)
    await services.aclose()


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _job_record(store: BatchStore, key: str) -> JobRecord | None:
    found = [job for job in await store.open_jobs() if job.key == key]
    return found[0] if found else None


async def _cleanup(client: aioredis.Redis, prefix: str) -> None:
    keys: list[Any] = await client.keys(f"{prefix}:*")
    if keys:
        await client.delete(*keys)
