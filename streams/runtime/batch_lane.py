"""The batch lane's wiring in a worker: parking at the complete stage and the timer that runs the jobs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import faust
from redis.exceptions import RedisError

from agents.job import Job
from gateway.batch.records import BatchEntry
from gateway.resilience.idempotency import RedisCompletionStore
from gateway.settings import Settings
from streams.runtime.batch_runner import BatchRunner
from streams.runtime.services import Services

if TYPE_CHECKING:  # the runner's stages park here: a runtime import would be circular
    from streams.runtime.job_runner import JobRunner

log = logging.getLogger(__name__)


async def park_entry(services: Services, entry: BatchEntry) -> str | None:
    """Park ``entry`` in the batch store; ``None`` when the store is unavailable (the request is served now)."""
    if services.batch is None:
        return None
    try:
        return await services.batch.park(entry)
    except (RedisError, OSError) as exc:
        log.warning("batch store unavailable; serving %s in the interactive lane: %s", entry.request_id, exc)
        return None


def install_batch_lane(app: faust.App, settings: Settings, services: Services, jobs: JobRunner) -> None:
    """Start the batch timer on ``app``: answers re-enter ``jobs`` (at ``complete`` or the stage after it)."""
    if services.batch is None or not settings.batch.enabled:
        return
    names = jobs.stage_names
    after_complete = names[names.index("complete") + 1] if names.index("complete") + 1 < len(names) else None

    async def deliver(stage: str, job: Job) -> None:
        target = "complete" if stage == "complete" else after_complete
        if target is None:
            raise RuntimeError("no stage follows complete: batch answers have nowhere to go")
        await jobs.put(job, target)

    completions = RedisCompletionStore(
        services.redis, prefix=f"{settings.app_id}:completion:", ttl_s=settings.completion_ttl_s
    )
    runner = BatchRunner(settings, services.batch, services.batch_clients, completions, deliver)
    app.timer(settings.batch.tick_s, name="streamgate.batch_lane")(runner.tick)
