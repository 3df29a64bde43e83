"""The Faust agents of the pipeline and the edges between them (see :mod:`streams.runtime.topology`).

Agents only move events: every decision is a plain function in :mod:`agents` or :mod:`streams.state.ledger_plan`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import faust

from agents import intake as intake_stage
from agents import prepare as prepare_stage
from agents import screen as screen_stage
from agents import stream_output
from agents.guarding import Guarding
from agents.job import Job
from gateway.kafka_security import KafkaConnection
from gateway.model_tokens import load_encodings
from gateway.prompts.registry import PromptRegistry
from gateway.settings import Settings
from gateway.tenant_binding import verify as verify_binding
from guards.base import Guard
from guards.registry import build_guards, of_stage
from schemas.internal import GuardState, Settlement
from schemas.request import LLMRequest
from schemas.result import ErrorInfo, ResultStatus
from streams.faust_patches import acting_for
from streams.runtime import metrics
from streams.runtime.accounting import Accountant
from streams.runtime.admin import list_topic_names
from streams.runtime.batch_lane import install_batch_lane
from streams.runtime.chunks import chunk_sinks
from streams.runtime.dead_letters import dead_letter, rejection_for_invalid
from streams.runtime.delivery import after_delivery, send
from streams.runtime.direct import direct_position, screens_directly
from streams.runtime.heap import release_free_heap
from streams.runtime.job_runner import JobRunner
from streams.runtime.reply_topics import ReplyGate
from streams.runtime.services import Services
from streams.runtime.set_aside import SetAside
from streams.runtime.stages import StageTable, declare_stages
from streams.runtime.topics import Topics, declare_topics
from streams.runtime.topology import inproc_chain
from streams.state.ledger import Ledger
from streams.state.ledger_plan import ScreenPlan, plan_screen
from streams.state.limits_ledger import LimitsLedger
from streams.state.record_expiry import RecordExpiry
from streams.state.records import record_key

log = logging.getLogger(__name__)

RECEIVED_HEADER = "sg-received-ms"
GUARDS_HEADER = "sg-guards"


@dataclass
class Pipeline:
    """Everything the agents share inside one worker."""

    app: faust.App
    settings: Settings
    services: Services
    topics: Topics
    ledger: Ledger
    accountant: Accountant
    stages: StageTable
    replies: ReplyGate
    set_aside: SetAside
    guards: tuple[Guard, ...] = ()
    prompts: PromptRegistry = field(default_factory=lambda: PromptRegistry({}, {}))
    guarding: Guarding | None = None
    in_flight: set[str] = field(default_factory=set)
    streaming: stream_output.Streaming | None = None
    runner: JobRunner | None = None  # the in-process stages: one task per job past screening


def build_pipeline(app: faust.App, settings: Settings, services: Services, kafka: KafkaConnection) -> Pipeline:
    """Declare topics, tables and the agents (intake, screen, account) on ``app``, and the job runner of the
    in-process stages."""
    topics = declare_topics(app, settings)
    records = app.Table("requests", default=None, partitions=settings.partitions, value_type=bytes)
    usage = app.Table("usage", default=None, partitions=settings.partitions)
    ledger = Ledger(records, LimitsLedger(usage, settings), RecordExpiry(settings.ledger_retention_s))
    accountant = Accountant(app, settings, topics, ledger)
    replies = ReplyGate(settings, lambda: list_topic_names(kafka))
    prompts = PromptRegistry.load(settings.prompts_dir, settings.prompts)
    # Screening counts every prompt by its models' encodings: loaded now, not in the first request.
    load_encodings(settings.models.values())
    guards = build_guards(settings)
    # The guards' libraries and the classifier are ~180k long-lived objects: a full collection scanned them in ~0.5 s
    # (several ms per request on average). Frozen, the collector never looks at them again. Start-up's garbage is
    # collected (and the heap pages it held released) first: frozen, a cycle of it would never be.
    release_free_heap()
    gc.freeze()
    guarding = Guarding(settings.guards, of_stage(guards, "content"), of_stage(guards, "output"))
    streaming = stream_output.Streaming(guarding, chunk_sinks(topics, settings))
    stages = declare_stages(settings, services, streaming)
    pipeline = Pipeline(
        app,
        settings,
        services,
        topics,
        ledger,
        accountant,
        stages,
        replies,
        SetAside(topics.dlq, max_dead_letter_bytes=settings.max_dead_letter_bytes),
        of_stage(guards, "admission"),
        prompts,
        guarding=guarding,
        streaming=streaming,
    )
    if services.cache.semantic is not None:  # rebuild semantic indexes from Redis after every rebalance
        services.cache.semantic.generation = lambda: int(app.rebalancing_count)
    # The order and the edges come from streams.runtime.topology, what each stage runs from streams.runtime.stages;
    # every job past screening is one task running them in turn (streams.runtime.job_runner).
    runner = JobRunner(
        [(name, stages.stages[name]) for name in inproc_chain("screen")],
        lambda job: _finish(pipeline, job),
        app.flow_control.acquire,
    )
    pipeline.runner = runner

    def stop_jobs(sender: Any, /, *_: Any, signal: Any, **__: Any) -> None:
        runner.cancel()  # as stopping the stage agents did: their events stay unacknowledged

    app.on_before_shutdown.connect(stop_jobs)
    install_batch_lane(app, settings, services, runner)
    _intake_agent(pipeline, runner)
    _screen_agent(pipeline, runner)
    _account_agent(pipeline)
    return pipeline


def _intake_agent(p: Pipeline, runner: JobRunner) -> None:
    """llm.requests -> (validate) -> streamgate.admit keyed by tenant, or screened here when already on the
    tenant's partition (:mod:`streams.runtime.direct`); bad events -> llm.dlq. One actor: screening writes the
    tables."""

    async def intake(stream: Any) -> None:
        async for event in stream.noack().events():
            await _or_dead_letter(p, event, "intake", lambda p, event: _intake_one(p, event, runner))

    p.app.agent(p.topics.requests, name="streamgate.intake", concurrency=1)(intake)


async def _intake_one(p: Pipeline, event: Any, runner: JobRunner) -> None:
    message = event.message
    try:
        request = intake_stage.parse_request(event.value, max_depth=p.settings.guards.max_json_depth)
        if p.settings.tenant_binding.mode == "hmac":  # before any work: who published is who pays
            refused = verify_binding(event.value, message.headers or (), request.tenant, p.settings.tenant_binding)
            if refused is not None:
                log.warning("request %s for tenant %r refused: %s", request.id, request.tenant, refused)
                metrics.REJECTIONS.labels(code=refused).inc()
                answer = intake_stage.unbound_rejection(request, refused)
                await _refuse(p, event, [], request.reply_to, answer, f"refusal of {request.id}")
                return
        intake_stage.check_bounds(request, len(event.value), p.settings.guards)
    except intake_stage.InvalidEvent as bad:
        metrics.DEAD_LETTERS.labels(reason=bad.reason).inc()
        letter = dead_letter(message, bad.reason, bad.detail, max_raw_bytes=p.settings.max_dead_letter_bytes)
        futures = [await send(p.topics.dlq, message.key, letter)]
        what = f"dead letter of offset {message.offset}"
        await _refuse(p, event, futures, bad.reply_to, rejection_for_invalid(bad), what)
        return
    received = int((message.timestamp or time.time()) * 1000)
    # Content guards (CPU-heavy: injection, PII) run here, before admission, not in the screen actor.
    state, value = GuardState(), event.value
    if p.guarding is not None:
        screened = p.guarding.screen(request, len(event.value))
        state = screened.state
        if screened.request is not request:
            request, value = screened.request, screened.request.model_dump_json().encode()
    if p.settings.direct_screening and screens_directly(
        key=message.key,
        partition=message.partition,
        tenant=request.tenant,
        topic_partitions=lambda: p.app.consumer.topic_partitions(message.topic),
        table_partitions=p.settings.partitions,
    ):
        metrics.DIRECT_SCREENED.inc()
        await _screen_request(p, event, request, direct_position(message.offset), received, runner, state)
        return
    headers = [(RECEIVED_HEADER, str(received).encode())]
    if state.verdicts or state.error:
        headers.append((GUARDS_HEADER, state.model_dump_json().encode()))
    future = await send(p.topics.admit, request.tenant.encode(), value, headers=headers)
    what = f"request {request.id}"
    after_delivery([future], event.ack, what=what, on_failed=p.set_aside.if_undeliverable(event, what))


async def _refuse(
    p: Pipeline, event: Any, futures: list[Any], reply_to: str | None, answer: tuple[bytes, bytes] | None, what: str
) -> None:
    """Send ``answer`` (a rejected result, if any) to ``reply_to`` when allowed, else the results topic; ack the
    event once it and ``futures`` are delivered."""
    if answer is not None:
        allowed = reply_to if await p.replies.refusal(reply_to) is None else None
        futures.append(await send(p.topics.reply(allowed or p.settings.topics.results), answer[0], answer[1]))
    after_delivery(futures, event.ack, what=what, on_failed=p.set_aside.if_undeliverable(event, what))


async def _or_dead_letter(
    p: Pipeline, event: Any, stage: str, handle: Callable[[Pipeline, Any], Awaitable[None]]
) -> None:
    """Run ``handle`` on a Kafka event; a bug sends the event to the dead-letter topic instead of stalling."""
    try:
        await handle(p, event)
    except Exception:
        log.exception("%s failed on %s offset %s", stage, event.message.topic, event.message.offset)
        await p.set_aside.letter(event, "internal", f"{stage} stage failed; see the worker log")


async def _finish(p: Pipeline, job: Job) -> None:
    """Run the stage table's step before settlement (the cache write), then settle the job here if this worker
    still owns its tenant's partition.

    Settling in place saves a topic hop (a produce, a consume and a JSON round trip of the settlement); after a
    rebalance moved the partition away, the settlement goes to the new owner through ``streamgate.settle``. Either
    way the admit event is acked only once what settles it is on the broker.
    """
    if job.parked:  # the batch store holds it now (durably): its batch job settles it later
        await _park(p, job)
        return
    if p.guarding is not None:  # output guards before the cache (unless they ran on the live stream), the
        # client's own values back after it
        job = p.guarding.finish_output(job, fresh=not job.cached and not stream_output.output_guarded(job))
        for verdict in job.guards:
            metrics.observe_guard(verdict.guard, verdict.action)
    await p.stages.before_settle(job)
    if p.guarding is not None:
        job = p.guarding.finish_output(job, fresh=False)
    if p.streaming is not None:  # a streamed request's last chunks, on the broker before its result
        await stream_output.settle(job, p.streaming)
    key = record_key(job.request.tenant, job.request.id)
    source = job.source

    def release(*_: object) -> None:
        p.in_flight.discard(key)

    if source is not None and p.settings.settle_in_place and p.accountant.owns(source):
        with acting_for(source):
            await p.accountant.settle(job.to_settlement(), source, release, in_place=True)
        return
    future = await send(p.topics.settle, job.request.tenant.encode(), job.to_settlement().model_dump_json().encode())

    def delivered() -> None:
        release()
        if source is not None:
            source.ack()

    after_delivery([future], delivered, what=f"settlement of {job.request.id}", on_failed=release)


async def _park(p: Pipeline, job: Job) -> None:
    """A job the batch lane took: wake its cache followers (they lead themselves), then ack its admit event."""
    await p.stages.before_settle(job)
    p.in_flight.discard(record_key(job.request.tenant, job.request.id))
    if job.source is not None:
        job.source.ack()


def _screen_agent(p: Pipeline, runner: JobRunner) -> None:
    """streamgate.admit -> guards, limits and reservation (one actor: it writes the tables) -> first stage."""

    async def screen(stream: Any) -> None:
        async for event in stream.noack().events():
            await _or_dead_letter(p, event, "screen", lambda p, event: _screen_one(p, event, runner))

    p.app.agent(p.topics.admit, name="streamgate.screen", concurrency=1)(screen)


async def _screen_one(p: Pipeline, event: Any, runner: JobRunner) -> None:
    request = LLMRequest.model_validate_json(event.value)
    state = GuardState.model_validate_json(_header(event, GUARDS_HEADER) or b"{}")
    await _screen_request(p, event, request, event.message.offset, _received_ms(event), runner, state)


async def _screen_request(
    p: Pipeline,
    event: Any,
    request: LLMRequest,
    position: int,
    received_ms: int,
    runner: JobRunner,
    state: GuardState,
) -> None:
    """Screen ``request`` from ``event`` (on the tenant's partition); ``position`` tells redeliveries apart.

    A ``reply_to`` that is not an existing reply topic is refused first, before any work or reservation, and the
    request is answered on the results topic instead.
    """
    message = event.message
    reply_refusal = await p.replies.refusal(request.reply_to)
    if reply_refusal is not None:
        request = request.model_copy(update={"reply_to": None})
    key = record_key(request.tenant, request.id)
    record = p.ledger.record(request)
    plan = plan_screen(record, position, key in p.in_flight)
    metrics.SCREENED.labels(plan=plan.value).inc()
    if plan in (ScreenPlan.SKIP, ScreenPlan.DROP):
        event.ack()
        return
    job = Job(
        request=request,
        received_ms=received_ms,
        reservation=None,
        source=event,
        guards=tuple(state.verdicts),
        restore=tuple(state.restore),
    )
    if plan is ScreenPlan.REPLAY_REJECTION:
        assert record is not None and record.error is not None
        status: ResultStatus = "error" if record.status == "error" else "rejected"
        await _finish(p, job.fail(record.error, status=status).evolve(reemit=record.offset != position))
        return
    # Rendered and routed once, here, where the reservation is priced; a resumed request gets the same again.
    prepared = prepare_stage.prepare(request, p.settings, p.prompts)
    if not isinstance(prepared, ErrorInfo):
        job = prepare_stage.carry(job, prepared)
    if plan is ScreenPlan.DECIDE:
        now = time.time()
        refusal = reply_refusal or (prepared if isinstance(prepared, ErrorInfo) else None)
        refusal = refusal or screen_stage.precheck(
            job.request, len(event.value), p.guards, int(now * 1000), prior=state.error
        )
        route_plan = None if isinstance(prepared, ErrorInfo) else prepared.plan
        admission = p.ledger.admit(job.request, position, refusal, now, partition=message.partition, plan=route_plan)
        if admission.error is not None:
            await _finish(p, job.fail(admission.error, status=admission.status))
            return
        job = job.evolve(reservation=admission.reservation)
    elif isinstance(prepared, ErrorInfo):  # resumed or re-answered, but its prompt or route no longer resolves
        reservation = record.reservation if record is not None else None
        job = job.evolve(reservation=reservation, reemit=plan is ScreenPlan.REANSWER)
        await _finish(p, job.fail(prepared, status="rejected"))
        return
    elif plan is ScreenPlan.RESUME:
        assert record is not None
        job = job.evolve(reservation=record.reservation)
    elif plan is ScreenPlan.REANSWER:
        job = job.evolve(reemit=True)
    p.in_flight.add(key)
    await runner.put(job)


def _header(event: Any, wanted: str) -> bytes | None:
    for name, value in event.message.headers or ():
        if name == wanted:
            return bytes(value)
    return None


def _received_ms(event: Any) -> int:
    value = _header(event, RECEIVED_HEADER)
    return int(value) if value is not None else int((event.message.timestamp or time.time()) * 1000)


def _account_agent(p: Pipeline) -> None:
    """streamgate.settle -> usage applied to the tables, result to reply_to, usage event to llm.usage."""

    async def account(stream: Any) -> None:
        async for event in stream.noack().events():
            await _or_dead_letter(p, event, "account", _account_one)

    p.app.agent(p.topics.settle, name="streamgate.account", concurrency=1)(account)


async def _account_one(p: Pipeline, event: Any) -> None:
    settlement = Settlement.model_validate_json(event.value)
    await p.accountant.settle(settlement, event, lambda *_: None, in_place=False)
