"""One task per in-flight job: its in-process stages (cache, complete, validate) run in order in that task.

Each stage used to be a Faust agent reading a channel, with one actor per concurrent job (256 + ``max_in_flight``
+ 256 actors by default). Every hand-off between stages then cost a channel put, Faust's stream machinery and a
wake-up of another actor, and every agent's supervisor walked all of its actors every 5 s, loaded or not (~5 % of
the main thread's CPU in a cProfile of a worker at 200 req/s). Here a job is one task from screening to
settlement; each stage still admits at most its configured number of jobs at once (a semaphore per stage, so the
provider sees at most ``max_in_flight`` calls, as before), and a job waits between stages while Faust's flow
control is suspended (a rebalance), as a channel put did.

Screening waits for room (:meth:`JobRunner.put`) once as many jobs are in flight as the channels and actors held
before, so back-pressure reaches the consumer as it did. Nothing here acks or commits: a job's source event is
acknowledged by settlement once its outputs are delivered, so a job lost with its task (a crash, a bug in
settlement, the worker stopping) leaves its event unacknowledged and replayed (at-least-once).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from agents.job import Job
from gateway.logs import request_context
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from streams.runtime import metrics
from streams.runtime.stages import StageSpec

log = logging.getLogger(__name__)

CHANNEL_ROOM = 1024
"""What each stage's channel buffered before (at least; more for a stage with more actors)."""


@dataclass(frozen=True, slots=True)
class _Stage:
    name: str
    spec: StageSpec
    slots: asyncio.Semaphore


class JobRunner:
    """Runs every job past screening in a task of its own, through ``stages`` in order, then ``finish``.

    ``pause`` is awaited before each stage (Faust's flow control: it blocks while a rebalance is under way).
    """

    def __init__(
        self,
        stages: Sequence[tuple[str, StageSpec]],
        finish: Callable[[Job], Awaitable[None]],
        pause: Callable[[], Awaitable[None]],
    ) -> None:
        self._stages = tuple(_Stage(name, spec, asyncio.Semaphore(spec.concurrency)) for name, spec in stages)
        self._index = {stage.name: index for index, stage in enumerate(self._stages)}
        self._finish = finish
        self._pause = pause
        self.capacity = sum(max(CHANNEL_ROOM, s.spec.concurrency) + s.spec.concurrency for s in self._stages)
        self._room = asyncio.Semaphore(self.capacity)
        self._tasks: set[asyncio.Task[None]] = set()
        self._seconds = {stage.name: metrics.STAGE_LATENCY.labels(stage=stage.name) for stage in self._stages}

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages in the order a job runs them."""
        return tuple(stage.name for stage in self._stages)

    def __len__(self) -> int:
        """Jobs in flight (running a stage, waiting for one, or being settled)."""
        return len(self._tasks)

    async def put(self, job: Job, stage: str | None = None) -> None:
        """Start ``job`` at ``stage`` (the first stage by default) once there is room; returns when it started."""
        start = 0 if stage is None else self._index[stage]
        await self._pause()
        await self._room.acquire()
        # A context of its own, as an agent's actor had: not the screening event's (Faust's current event).
        task = asyncio.get_running_loop().create_task(self._run(job, start), context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def cancel(self) -> None:
        """Cancel every job in flight (the worker is stopping; their events stay unacknowledged)."""
        for task in list(self._tasks):
            task.cancel()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._room.release()

    async def _run(self, job: Job, start: int) -> None:
        try:
            for index in range(start, len(self._stages)):
                if index > start:
                    await self._pause()
                job = await self._step(self._stages[index], job)
                if job.short_circuited:
                    break
            await self._finish(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("settling %s failed; its event stays unacknowledged", job.request.id)

    async def _step(self, stage: _Stage, job: Job) -> Job:
        async with stage.slots:
            started = time.perf_counter()
            try:
                with request_context(job.request.id, job.request.tenant, stage.name):
                    job = await stage.spec.run(job)
            except Exception as exc:
                log.exception("stage %s failed on %s", stage.name, job.request.id)
                job = job.fail(ErrorInfo(code=ErrorCode.INTERNAL_ERROR, message=f"{stage.name}: {type(exc).__name__}"))
            self._seconds[stage.name].observe(time.perf_counter() - started)
            return job
