"""The job runner: stages in order in one task per job, a stage's own bound, pauses, failures and room."""

from __future__ import annotations

import asyncio

from agents.job import Job
from schemas.request import LLMRequest
from streams.runtime.job_runner import CHANNEL_ROOM, JobRunner
from streams.runtime.stages import StageFn, StageSpec


def _job(request_id: str = "r1") -> Job:
    request = LLMRequest.model_validate(
        {"id": request_id, "tenant": "acme", "user": "u1", "messages": [{"role": "user", "content": "hi"}]}
    )
    return Job(request=request, received_ms=0, reservation=None)


class _Finished(list[Job]):
    """The jobs finished so far, and an event set once ``count`` of them are."""

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.wanted = count
        self.enough = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.append(job)
        if len(self) >= self.wanted:
            self.enough.set()

    async def wait(self) -> None:
        await asyncio.wait_for(self.enough.wait(), 5)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def _no_pause() -> None:
    return None


def _recording(log: list[str], name: str) -> StageFn:
    async def run(job: Job) -> Job:
        log.append(f"{name}:{job.request.id}")
        return job

    return run


async def test_a_job_runs_every_stage_in_order_then_is_finished() -> None:
    log: list[str] = []
    finished = _Finished()
    stages = [(name, StageSpec(4, _recording(log, name))) for name in ("cache", "complete", "validate")]
    runner = JobRunner(stages, finished, _no_pause)
    await runner.put(_job())
    await finished.wait()
    assert log == ["cache:r1", "complete:r1", "validate:r1"]
    await _settle()
    assert len(runner) == 0


async def test_a_job_put_at_a_later_stage_skips_the_earlier_ones() -> None:
    log: list[str] = []
    done = asyncio.Event()

    async def finish(job: Job) -> None:
        done.set()

    runner = JobRunner(
        [(n, StageSpec(4, _recording(log, n))) for n in ("cache", "complete", "validate")], finish, _no_pause
    )
    await runner.put(_job(), "validate")
    await asyncio.wait_for(done.wait(), 1)
    assert log == ["validate:r1"]


async def test_a_failing_stage_fails_the_job_and_the_rest_is_skipped() -> None:
    log: list[str] = []
    finished = _Finished()

    async def broken(job: Job) -> Job:
        raise ValueError("boom")

    stages = [("cache", StageSpec(4, broken)), ("complete", StageSpec(4, _recording(log, "complete")))]
    runner = JobRunner(stages, finished, _no_pause)
    await runner.put(_job())
    await finished.wait()
    assert log == []
    assert finished[0].status == "error"
    assert finished[0].error is not None and finished[0].error.message == "cache: ValueError"


async def test_a_stage_admits_no_more_jobs_than_its_concurrency() -> None:
    running = 0
    peak = 0
    release = asyncio.Event()
    finished = _Finished(5)

    async def slow(job: Job) -> Job:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return job

    runner = JobRunner([("complete", StageSpec(2, slow))], finished, _no_pause)
    for index in range(5):
        await runner.put(_job(f"r{index}"))
    for _ in range(10):
        await asyncio.sleep(0)
    assert peak == 2 and len(runner) == 5
    release.set()
    await finished.wait()
    assert peak == 2


async def test_jobs_wait_between_stages_while_paused() -> None:
    log: list[str] = []
    resumed = asyncio.Event()
    resumed.set()
    finished = _Finished()

    async def pause() -> None:
        await resumed.wait()

    async def first(job: Job) -> Job:
        resumed.clear()  # a rebalance begins while the job is in its first stage
        return job

    runner = JobRunner(
        [("cache", StageSpec(4, first)), ("complete", StageSpec(4, _recording(log, "complete")))], finished, pause
    )
    await runner.put(_job())
    for _ in range(10):
        await asyncio.sleep(0)
    assert log == [] and not finished
    resumed.set()
    await finished.wait()
    assert log == ["complete:r1"]


async def test_put_waits_for_room_and_cancel_frees_it() -> None:
    block = asyncio.Event()

    async def stuck(job: Job) -> Job:
        await block.wait()
        return job

    async def finish(job: Job) -> None:
        return None

    runner = JobRunner([("complete", StageSpec(1, stuck))], finish, _no_pause)
    assert runner.capacity == CHANNEL_ROOM + 1
    for index in range(runner.capacity):
        await runner.put(_job(f"r{index}"))
    late = asyncio.ensure_future(runner.put(_job("late")))
    await asyncio.sleep(0.01)
    assert not late.done()
    runner.cancel()
    await asyncio.wait_for(late, 1)
    await _settle()
    assert len(runner) == 1  # only the late job is left, waiting for the stage
    runner.cancel()
    await _settle()
    assert len(runner) == 0
