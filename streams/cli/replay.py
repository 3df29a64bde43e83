"""``streamgate replay``: re-run a time range of the request topic against a variant, into shadow topics.

The requests are read back from the request topic (the gateway's own request log), each copied as a shadow
request (:mod:`agents.shadow`) and served in this process through the same decisions as live traffic, with
their own completion store. Results go to the shadow results topic and usage events to the shadow usage topic,
never to a client's ``reply_to`` nor to ``llm.usage``, and no tenant's limits or budgets are touched. Then the
comparison with the recorded results is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import SecretStr

from agents import intake as intake_stage
from agents.replay_report import Comparison, compare
from agents.shadow import Variant, serve_shadow, shadow_request
from gateway.errors import StreamgateError
from gateway.kafka_security import KafkaTarget, connection
from gateway.prompts.registry import PromptRegistry
from gateway.settings import Settings
from guards.registry import build_guards
from schemas.request import LLMRequest
from schemas.result import LLMResult
from streams.devtools.client import read_topic
from streams.devtools.provider_routes import routes_of, simulator_env
from streams.runtime.services import build_services

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


@dataclass(frozen=True, slots=True)
class Window:
    """A time range of the request topic, epoch milliseconds, both ends included."""

    from_ms: int
    to_ms: int


def parse_time(text: str) -> int:
    """Epoch ms from epoch ms digits or an ISO 8601 time (UTC when no zone is given)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StreamgateError(f"not a time: {text!r} (use epoch ms or ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def window_of(since: str | None, start: str | None, end: str | None, now_ms: int) -> Window:
    """The window of ``--since 15m`` or ``--from T [--to T]``."""
    if since is not None:
        match = _DURATION.match(since)
        if match is None:
            raise StreamgateError(f"--since wants a duration like 30s, 15m, 2h or 1d, got {since!r}")
        return Window(now_ms - int(float(match[1]) * _UNIT_S[match[2]] * 1000), now_ms)
    if start is None:
        raise StreamgateError("give --since or --from")
    window = Window(parse_time(start), parse_time(end) if end is not None else now_ms)
    if window.from_ms > window.to_ms:
        raise StreamgateError("--from is after --to")
    return window


async def read_window(bootstrap: KafkaTarget, topic: str, window: Window) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of ``topic`` whose timestamp falls in ``window`` (seeking by time, reading to the end)."""
    consumer = AIOKafkaConsumer(**connection(bootstrap).client_kwargs(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        consumer.assign(tps)
        starts = await consumer.offsets_for_times({tp: window.from_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        live = []
        for tp in tps:
            found = starts.get(tp)
            if found is not None:
                consumer.seek(tp, found.offset)
                live.append(tp)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while live:
            for batch in (await consumer.getmany(*live, timeout_ms=200)).values():
                records.extend(r for r in batch if window.from_ms <= r.timestamp <= window.to_ms)
            live = [tp for tp in live if await consumer.position(tp) < ends[tp]]
        return records
    finally:
        await consumer.stop()


def recorded_requests(records: list[ConsumerRecord[bytes, bytes]]) -> list[LLMRequest]:
    """The valid requests among ``records``, first publish of each id only (bad events are skipped)."""
    seen: dict[tuple[str, str], LLMRequest] = {}
    for record in records:
        try:
            request = intake_stage.parse_request(record.value)
        except intake_stage.InvalidEvent:
            continue
        seen.setdefault((request.tenant, request.id), request)
    return list(seen.values())


async def recorded_results(bootstrap: KafkaTarget, topics: set[str], ids: set[str]) -> dict[str, LLMResult]:
    """The first recorded result of each id in ``ids`` on any of ``topics``."""
    found: dict[str, LLMResult] = {}
    for topic in sorted(topics):
        for record in await read_topic(bootstrap, topic):
            try:
                result = LLMResult.model_validate_json(record.value or b"")
            except ValueError:
                continue
            if result.id in ids:
                found.setdefault(result.id, result)
    return found


async def run_replay(
    settings: Settings,
    bootstrap: KafkaTarget,
    window: Window,
    variant: Variant,
    *,
    shadow_results: str,
    shadow_usage: str,
    concurrency: int = 16,
) -> Comparison:
    """Replay ``window`` with ``variant``; returns the comparison (also what the command prints)."""
    requests = recorded_requests(await read_window(bootstrap, settings.topics.requests, window))
    reply_topics = {settings.topics.results} | {r.reply_to for r in requests if r.reply_to}
    recorded = await recorded_results(bootstrap, reply_topics, {r.id for r in requests})
    run = uuid.uuid4().hex[:8]
    # Shadow calls keep their own completion store and claims: they never answer, nor are answered by, live ids.
    services = build_services(settings.model_copy(update={"app_id": f"{settings.app_id}.shadow"}))
    prompts = PromptRegistry.load(settings.prompts_dir, settings.prompts)
    guards = build_guards(settings)
    producer = AIOKafkaProducer(**connection(bootstrap).client_kwargs(), linger_ms=5, max_request_size=4 << 20)
    await producer.start()
    gate = asyncio.Semaphore(concurrency)

    async def one(request: LLMRequest) -> tuple[LLMResult | None, LLMResult]:
        shadow = shadow_request(request, run, variant, shadow_results)
        async with gate:
            result, usage = await serve_shadow(
                shadow, settings, prompts, guards, services.completer, max_request_s=services.max_request_s
            )
        await producer.send_and_wait(shadow_results, result.model_dump_json().encode(), key=shadow.id.encode())
        await producer.send_and_wait(shadow_usage, usage.model_dump_json().encode(), key=shadow.tenant.encode())
        return recorded.get(request.id), result

    try:
        pairs = await asyncio.gather(*(one(r) for r in requests))
    finally:
        await producer.stop()
        await services.aclose()
    return compare(pairs)


def with_dev_simulator(settings: Settings, dev_state: Path) -> Settings:
    """``settings`` with each provider they leave unconfigured pointed at the dev stack's simulator, as the dev
    stack's workers are (:mod:`streams.devtools.provider_routes`)."""
    if not dev_state.is_file():
        return settings
    simulator = json.loads(dev_state.read_text()).get("simulator")
    if not simulator:
        return settings
    env = simulator_env(routes_of(settings), simulator)
    # The variables are the settings' own aliases (OPENAI_BASE_URL -> openai_base_url, ...); keys stay secret.
    update = {name.lower(): SecretStr(value) if name.endswith("_API_KEY") else value for name, value in env.items()}
    return settings.model_copy(update=update)


async def replay_command(
    settings: Settings, bootstrap: KafkaTarget, args: argparse.Namespace, *, dev_state: Path | None = None
) -> int:
    """The ``replay`` subcommand: print what was replayed and the comparison."""
    if dev_state is not None:
        settings = with_dev_simulator(settings, dev_state)
    window = window_of(args.since, args.start, args.end, int(time.time() * 1000))
    variant = Variant(prompt_version=args.prompt_version, model=args.model, task=args.task)
    comparison = await run_replay(
        settings,
        bootstrap,
        window,
        variant,
        shadow_results=args.shadow_topic or f"{settings.topics.results}.shadow",
        shadow_usage=args.shadow_usage_topic or f"{settings.topics.usage}.shadow",
        concurrency=args.concurrency,
    )
    print(f"replayed {window.from_ms}..{window.to_ms} ms with {variant}")
    print(comparison.render())
    return 0
