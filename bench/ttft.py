"""``streamgate bench --ttft``: time to first token through the gateway, against the provider called directly.

One stack (embedded broker unless ``KAFKA_BOOTSTRAP_SERVERS``, the simulator, one worker). The simulator answers
with the prompt's text (``#sim:echo``, ~600 characters), waits ``--provider-ms`` before the first byte
(``#sim:sleep_ms``) and ``--delta-ms`` between deltas of three words (``#sim:delta_ms``): a model that takes a
while to start and then writes at a finite speed. Each figure is measured the same way:

- **provider directly**: the official SDK (``stream=True``) against the simulator; first token = the first
  non-empty text delta, total = the end of the stream;
- **gateway**: a ``stream: true`` request keyed by its tenant on the request topic; first token = the first chunk
  event read from the results topic, total = its result; timed from just before the publish;
- once for a tenant under the default output guards (PII redaction holds back a window of text), once for a
  tenant with ``pii_output = "allow"`` (chunks leave as the provider sends them).

Requests run ``--concurrency`` at a time (light load: this measures latency, not capacity) with unique prompts and
the cache bypassed, for OpenAI (gpt-4o-mini) and Anthropic (claude-3-5-haiku) formats; each row starts with one
untimed round (connections, first-call costs).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anthropic
import openai
import orjson
from aiokafka import AIOKafkaProducer

from bench.load import Tap, new_producer, parse_result
from bench.stack import BENCH_DIR, bench_stack
from bench.stats import percentile
from gateway.settings import Settings, load_settings
from streams.devtools.dev import DevStack

OPEN_TENANT = "bench-ttft-open"
GUARDED_TENANT = "bench-ttft-guarded"
CONFIG = f'[guards.tenants.{OPEN_TENANT}]\npii_output = "allow"\n'
MODELS = {"gpt-4o-mini": ("openai", "gpt-4o-mini"), "claude-3-5-haiku": ("anthropic", "claude-3-5-haiku-latest")}
_TEXT = (
    "The parcel left the regional depot early this morning and is now on the delivery van, which usually reaches "
    "this part of town around noon; the driver will ring twice and leave it with a neighbour if nobody answers. "
) * 3
Timing = tuple[float, float]  # (first token, total) in seconds


@dataclass(frozen=True, slots=True)
class TtftRow:
    """One way of asking: its first-token and total latencies (ms)."""

    path: str
    model: str
    ttft_ms: list[float]
    total_ms: list[float]

    def line(self) -> str:
        """A printable row."""
        p50, p90 = percentile(self.ttft_ms, 50), percentile(self.ttft_ms, 90)
        t50, t90 = percentile(self.total_ms, 50), percentile(self.total_ms, 90)
        return f"  {self.path:<34} {self.model:<17} {p50:>8.0f} {p90:>8.0f} {t50:>9.0f} {t90:>9.0f}"


def _prompt(tag: str, n: int, provider_ms: float, delta_ms: float) -> str:
    return f"[{tag}:{n}] {_TEXT} #sim:echo #sim:sleep_ms={provider_ms:g} #sim:delta_ms={delta_ms:g}"


async def _openai_direct(client: openai.AsyncOpenAI, model: str, prompt: str) -> Timing:
    started, first = time.perf_counter(), None
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_completion_tokens=400,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
    end = time.perf_counter()
    return (first or end) - started, end - started


async def _anthropic_direct(client: anthropic.AsyncAnthropic, model: str, prompt: str) -> Timing:
    started, first = time.perf_counter(), None
    async with client.messages.stream(
        model=model, max_tokens=400, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        async for text in stream.text_stream:
            if first is None and text:
                first = time.perf_counter()
    end = time.perf_counter()
    return (first or end) - started, end - started


def parse_chunk(value: bytes) -> tuple[str, object] | None:
    """``(id, None)`` of a chunk event, ``None`` for anything else (the tap keeps each id's first chunk)."""
    doc = orjson.loads(value)
    return (str(doc["id"]), None) if doc.get("type") == "chunk" else None


@dataclass
class _Gateway:
    """Publishes streamed requests and times their first chunk and result."""

    stack: DevStack
    producer: AIOKafkaProducer
    chunks: Tap
    results: Tap

    async def ask(self, tenant: str, model: str, prompt: str) -> Timing:
        rid = f"ttft-{uuid.uuid4().hex[:12]}"
        doc = {"id": rid, "tenant": tenant, "user": "u", "model": model, "stream": True, "max_tokens": 400,
               "cache": {"mode": "bypass"}, "messages": [{"role": "user", "content": prompt}]}  # fmt: skip
        started = time.time()
        await self.producer.send_and_wait(self.stack.settings.topics.requests, orjson.dumps(doc), key=tenant.encode())
        result = (await self.results.wait_for([rid], timeout_s=60))[rid]
        first = (await self.chunks.wait_for([rid], timeout_s=5)).get(rid)  # its own reader may be a bit behind
        if result.data.get("status") != "ok" or first is None:
            raise RuntimeError(f"{rid}: {result.data.get('status')} {result.data.get('error')}")
        return first.received - started, result.received - started


async def _rows(stack: DevStack, requests: int, concurrency: int, provider_ms: float, delta_ms: float) -> list[TtftRow]:
    assert stack.simulator_url is not None
    topics = stack.settings.topics
    chunks = await Tap(stack.bootstrap, topics.results, parse_chunk).start()
    results = await Tap(stack.bootstrap, topics.results, parse_result).start()
    gateway = _Gateway(stack, await new_producer(stack.bootstrap), chunks, results)
    # One SDK client per provider for the whole run, as a service would keep (no connection set-up per call).
    oai = openai.AsyncOpenAI(api_key="sk-bench", base_url=f"{stack.simulator_url}/v1", max_retries=0)
    claude = anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url=stack.simulator_url, max_retries=0)
    tag = uuid.uuid4().hex[:6]
    rows: list[TtftRow] = []
    try:
        for model, (flavor, upstream) in MODELS.items():
            direct: Callable[[str], Awaitable[Timing]] = (
                partial(_openai_direct, oai, upstream)
                if flavor == "openai"
                else partial(_anthropic_direct, claude, upstream)
            )
            paths: list[tuple[str, Callable[[str], Awaitable[Timing]]]] = [
                ("provider directly (official SDK)", direct),
                ("gateway, output guards on", partial(gateway.ask, GUARDED_TENANT, model)),
                ("gateway, pii_output = allow", partial(gateway.ask, OPEN_TENANT, model)),
            ]
            for name, ask in paths:
                await asyncio.gather(*(ask(_prompt(f"{tag}w{name[:8]}{model}", n, 0, 0)) for n in range(concurrency)))
                timings: list[Timing] = []
                for start in range(0, requests, concurrency):
                    batch = range(start, min(requests, start + concurrency))
                    prompts = [_prompt(f"{tag}{name[:8]}{model}", n, provider_ms, delta_ms) for n in batch]
                    timings += await asyncio.gather(*(ask(p) for p in prompts))
                row = TtftRow(name, model, [1000 * t for t, _ in timings], [1000 * t for _, t in timings])
                print(row.line(), flush=True)
                rows.append(row)
    finally:
        await oai.close()
        await claude.close()
        await gateway.producer.stop()
        await chunks.stop()
        await results.stop()
    return rows


def run_ttft(settings: Settings, *, requests: int, concurrency: int, provider_ms: float, delta_ms: float) -> int:
    """Start a stack with the benchmark's tenant policies and print first-token and total latencies."""
    config = BENCH_DIR / "ttft" / "ttft.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG)
    settings = load_settings(config_file=Path(config))
    print(
        f"time to first token, {requests} requests per row, {concurrency} at a time; simulator: first byte after "
        f"{provider_ms:.0f} ms, then 3 words every {delta_ms:.0f} ms (~{len(_TEXT)} characters)",
        flush=True,
    )
    with bench_stack(settings, "ttft", config_file=config) as stack:
        print(f"  {'path':<34} {'model':<17} {'ttft p50':>8} {'p90':>8} {'total p50':>9} {'p90':>9}  (ms)")
        asyncio.run(_rows(stack, requests, concurrency, provider_ms, delta_ms))
    return 0
