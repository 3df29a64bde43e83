"""The in-process stages: what each one runs and with how many actors, declared in one table.

:mod:`streams.runtime.topology` says which stages follow screening and in what order; this module says what
each of them does (a function of :mod:`agents`) and how many jobs it runs at once (``Settings.stage_actors``: the
``[stages]`` config table, ``complete`` from ``max_in_flight``), plus the named step that runs before a job is
settled (storing a fresh answer in the cache). :func:`streams.runtime.pipeline.build_pipeline` hands exactly this
table to :class:`streams.runtime.job_runner.JobRunner`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agents import batch_lane, stream_output
from agents import cache as cache_stage
from agents import cascade as cascade_stage
from agents import validate as validate_stage
from agents.job import Job
from gateway.settings import Settings
from streams.runtime.batch_lane import park_entry
from streams.runtime.services import Services

StageFn = Callable[[Job], Awaitable[Job]]
FinishFn = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One in-process stage: how many jobs it runs at once and the function it runs on each."""

    concurrency: int
    run: StageFn


@dataclass(frozen=True, slots=True)
class StageTable:
    """Every in-process stage by name, and the step run on each job before it is settled."""

    stages: dict[str, StageSpec]
    before_settle: FinishFn


def declare_stages(
    settings: Settings, services: Services, streaming: stream_output.Streaming | None = None
) -> StageTable:
    """The stage table of a worker; ``streaming`` serves ``stream: true`` requests (without it they are answered
    whole)."""
    actors = settings.stage_actors
    max_request_s = services.max_request_s

    async def complete(job: Job) -> Job:
        if job.request.stream and streaming is not None:
            return await stream_output.complete(
                job, services.completer, settings, streaming, max_request_s=max_request_s
            )
        # The batch lane parks a batch request here (agents.batch_lane); everything else completes now.
        return await batch_lane.park_or_complete(
            job,
            settings,
            lambda entry: park_entry(services, entry),
            lambda job: cascade_stage.complete_routed(job, services.completer, settings, max_request_s=max_request_s),
        )

    async def store_in_cache(job: Job) -> None:
        # Every job: a failed leader must wake its coalesced followers too (remember stores only fresh answers).
        await cache_stage.remember(job, services.cache, settings)

    return StageTable(
        stages={
            "cache": StageSpec(actors("cache"), lambda job: cache_stage.lookup(job, services.cache, settings)),
            # The route was decided at screening and rides on the job; a cascade runs all its steps here.
            "complete": StageSpec(actors("complete"), complete),
            "validate": StageSpec(
                actors("validate"),
                lambda job: validate_stage.validate(job, services.completer, max_request_s=max_request_s),
            ),
        },
        before_settle=store_in_cache,
    )
