"""The batch lane's decisions: which requests wait for a provider batch, what is kept of them while they wait, and
what becomes of each one when its batch ends. Plain functions, tested without Kafka or Redis.

A request asks for the lane with ``lane = "batch"``; it takes it when the lane is on, its route is one step (a
cascade escalates answer by answer: interactive), it is not streamed, its primary model's provider has a batch API,
its deadline is at least ``batch.min_deadline_s`` away, and nothing about it must stay in the worker (``pii_restore``
values). It then
passes every stage as usual (guards, limits, the cache) and *parks* at the complete stage: the
batch store holds it until its provider/model's job ends. A succeeded answer re-enters the pipeline at validation
(an invalid one gets the one corrective retry, interactively); a failed or expired one falls back to the
interactive lane while its deadline allows (``batch.fallback_min_s``), else it is answered ``batch_failed``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.complete import apply_outcome
from agents.job import Job, RoutePlan
from gateway.batch.clients import BATCH_PROVIDERS, ItemResult
from gateway.batch.records import BatchEntry, custom_id_for
from gateway.completion import CompletionOutcome, completion_call, completion_key
from gateway.providers.base import Completion, CompletionCall
from gateway.request_keys import request_key
from gateway.resilience.chain import ChainLink, Route
from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.internal import Reservation
from schemas.request import LLMRequest
from schemas.result import Attempt, ErrorInfo, GuardVerdict, Lane


class ParkedJob(BaseModel):
    """What the lane keeps of a job while it waits (the batch entry's payload): enough to rebuild it."""

    model_config = ConfigDict(frozen=True)

    request: LLMRequest
    received_ms: int
    reservation: Reservation | None = None
    links: list[tuple[str, str, str]]
    drop_turns: int = 0
    prompt_name: str | None = None
    prompt_version: str | None = None
    guards: list[GuardVerdict] = []


def first_lane(request: LLMRequest, plan: RoutePlan, settings: Settings) -> Lane:
    """The lane a request is first served in: ``batch`` when it asks for it and its route can take it.

    Not the lane it is reserved in: a batch that fails or expires hands its requests back to the interactive lane,
    so the reservation is always priced interactively (:func:`agents.reserve.plan_estimate`)."""
    if request.lane != "batch" or not settings.batch.enabled or plan.is_cascade or request.stream:
        return "interactive"  # a streamed request wants its chunks now: a batch answers all at once
    return "batch" if plan.first.primary.provider in BATCH_PROVIDERS else "interactive"


def should_park(job: Job, settings: Settings, now_ms: int) -> bool:
    """Whether the complete stage hands ``job`` to the batch lane instead of calling the provider now."""
    if job.finished or job.plan is None or job.route is None or job.reemit or job.restore:
        return False
    if job.batch_job_id is not None:  # back from a batch job that failed it: the interactive lane serves it
        return False
    if first_lane(job.request, job.plan, settings) != "batch":
        return False
    deadline = job.request.deadline_ms
    return deadline is None or deadline - now_ms >= settings.batch.min_deadline_s * 1000


def call_for(request: LLMRequest, route: Route, settings: Settings) -> CompletionCall:
    """The provider call the batch makes for ``request``: the same one the interactive lane would make."""
    return completion_call(
        request, route, timeout_s=settings.resilience.attempt_timeout_s, key=completion_key(request)
    )


def entry_for(job: Job, settings: Settings, now_ms: int) -> BatchEntry:
    """The batch store's record of a job that parks."""
    assert job.route is not None
    route = job.route
    parked = ParkedJob(
        request=job.request,
        received_ms=job.received_ms,
        reservation=job.reservation,
        links=[(link.model, link.provider, link.upstream) for link in route.chain],
        drop_turns=route.drop_turns,
        prompt_name=job.prompt_name,
        prompt_version=job.prompt_version,
        guards=list(job.guards),
    )
    call = dataclasses.asdict(call_for(job.request, route, settings))
    return BatchEntry(
        request_id=job.request.id,
        tenant=job.request.tenant,
        provider=route.primary.provider,
        model=route.primary.model,
        custom_id=custom_id_for(request_key(job.request.tenant, job.request.id)),
        call=call,
        payload=parked.model_dump(mode="json"),
        enqueued_ms=now_ms,
        deadline_ms=job.request.deadline_ms,
    )


def call_of(entry: BatchEntry) -> CompletionCall:
    """The stored provider call of an entry."""
    fields: dict[str, Any] = dict(entry.call)
    if fields.get("stop") is not None:
        fields["stop"] = tuple(fields["stop"])
    return CompletionCall(**fields)


def job_from(entry: BatchEntry, job_key: str, source: Any = None) -> Job:
    """Rebuild the parked job of ``entry`` (in job ``job_key``), unfinished, with ``source`` to ack once settled."""
    parked = ParkedJob.model_validate(entry.payload)
    route = Route(chain=tuple(ChainLink(*link) for link in parked.links), drop_turns=parked.drop_turns)
    return Job(
        request=parked.request,
        received_ms=parked.received_ms,
        reservation=parked.reservation,
        source=source,
        route=route,
        plan=RoutePlan(steps=(route,), task=parked.request.task),
        prompt_name=parked.prompt_name,
        prompt_version=parked.prompt_version,
        guards=tuple(parked.guards),
        batch_job_id=job_key,
    )


def answered(job: Job, completion: Completion, latency_ms: float) -> Job:
    """``job`` answered by its batch: status ok, the batch lane, one provider attempt."""
    assert job.route is not None
    link = job.route.primary
    attempt = Attempt(provider=link.provider, model=link.model, outcome="ok", latency_ms=latency_ms)
    return apply_outcome(job.evolve(lane="batch"), CompletionOutcome(completion, link, (attempt,)))


def after_failure(job: Job, item: ItemResult, settings: Settings, now_ms: int) -> Job:
    """A job its batch could not answer: back to the interactive lane (unfinished) if its deadline allows, else
    failed with ``batch_failed``."""
    deadline = job.request.deadline_ms
    if deadline is None or deadline - now_ms >= settings.batch.fallback_min_s * 1000:
        return job.evolve(lane="interactive")
    message = f"batch job {job.batch_job_id}: the request {item.failure}; its deadline leaves no time to retry"
    return job.evolve(lane="batch").fail(ErrorInfo(code=ErrorCode.BATCH_FAILED, message=message))


async def park_or_complete(
    job: Job,
    settings: Settings,
    park: Callable[[BatchEntry], Awaitable[str | None]],
    complete: Callable[[Job], Awaitable[Job]],
) -> Job:
    """The complete stage with the lane in front: park a batch job (``park`` returns ``parked``/``already``,
    ``stored`` when its answer is already known, or ``None`` when the store is unavailable), else complete it."""
    now_ms = int(time.time() * 1000)
    if not should_park(job, settings, now_ms):
        return await complete(job)
    outcome = await park(entry_for(job, settings, now_ms))
    if outcome in ("parked", "already"):
        return job.evolve(parked=True, lane="batch")
    return await complete(job)  # stored: replayed from the completion store; None: served interactively now
