"""``streamgate demo``: start the embedded stack, run a representative batch, print results and costs."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from gateway.kafka_security import KafkaTarget
from gateway.settings import Settings
from schemas.dead_letter import DeadLetter
from schemas.request import LLMRequest
from schemas.result import LLMResult
from schemas.usage import UsageEvent
from streams.devtools.client import GatewayClient, read_topic
from streams.devtools.dev import DevStack

REPEATS = ("03", "05")
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "population": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["city", "population", "tags"],
    "additionalProperties": False,
}


def demo_requests(run: str, settings: Settings) -> list[LLMRequest]:
    """The batch: plain prompts (some repeated, so the cache answers), both providers, a JSON-schema request,
    a provider failure, an unknown model and an oversized prompt."""
    system = f"You are a concise assistant (demo run {run})."

    def req(n: int, text: str, **fields: Any) -> LLMRequest:
        fields.setdefault("tenant", "acme")
        fields.setdefault("user", "alice")
        return LLMRequest(
            id=f"demo-{run}-{n:02d}",
            system=system,
            messages=[{"role": "user", "content": text}],
            metadata={"demo": run, "n": n},
            **fields,
        )

    oversized = "lorem ipsum " * (settings.guards.max_request_bytes // 10)
    return [
        req(1, "Summarise the benefits of event streaming in one sentence."),
        req(2, "Give me a haiku about Kafka partitions.", user="bob"),
        req(3, "Summarise the benefits of event streaming in one sentence."),  # repeat: cache hit
        req(4, "Name three uses of an LLM gateway.", tenant="globex", user="carol", model="claude-3-5-haiku"),
        req(5, "Name three uses of an LLM gateway.", tenant="globex", user="carol", model="claude-3-5-haiku"),
        req(6, "Describe Lisbon as JSON.", model="gpt-4o", response_format=ANSWER_SCHEMA, max_tokens=200),
        req(7, "Write a limerick about retries.", model="smart"),  # primary down -> fallback
        req(8, "What is the capital of France?", model="gpt-5-ultra"),  # unknown model -> rejected
        req(9, oversized, user="mallory"),  # too large -> rejected
        req(10, "Explain backpressure to a five year old.", tenant="globex", user="dave", task="explain"),
    ]


def run_demo(settings: Settings, config_file: Path | None) -> int:
    """Start everything, run the batch, print the table, stop everything."""
    run = uuid.uuid4().hex[:6]
    print("starting the embedded broker, the provider simulator and a worker ...", flush=True)
    with DevStack(settings, workers=1, config_file=config_file) as stack:
        seconds = asyncio.run(stack.wait_ready())
        print(f"pipeline ready in {seconds:.1f} s (broker {stack.bootstrap}, simulator {stack.simulator_url})")
        return asyncio.run(_run_batch(stack, settings, run))


async def _run_batch(stack: DevStack, settings: Settings, run: str) -> int:
    requests = demo_requests(run, settings)
    topics = settings.topics
    keys = settings.tenant_binding.signing_keys()
    async with GatewayClient(
        stack.kafka, requests_topic=topics.requests, results_topic=topics.results, tenant_keys=keys
    ) as client:
        # The primary of "smart" (claude-sonnet-4) is down for this run: its requests fall back to gpt-4o.
        stack.simulator_fault(model=settings.models["claude-sonnet-4"].upstream, error_rate=1.0, error_status=503)
        started = time.monotonic()
        first, repeats = (
            [r for r in requests if r.id[-2:] not in REPEATS],
            [r for r in requests if r.id[-2:] in REPEATS],
        )
        await client.publish(first)
        await client.collect([r.id for r in first[:3]], timeout_s=30)  # the repeats below hit the cache
        await client.publish(repeats)
        await client.publish_raw(
            [b'{"id": "broken", "tenant": ', b"\xff\xfenot json at all", b'{"v": 1, "id": "demo-no-messages"}']
        )
        results = await client.collect([r.id for r in requests], timeout_s=90)
        elapsed = time.monotonic() - started
    usage = await _read_all(stack.kafka, topics.usage, lambda raw: UsageEvent.model_validate_json(raw))
    letters = await _read_all(stack.kafka, topics.dlq, lambda raw: DeadLetter.model_validate_json(raw))
    _print_table(requests, results)
    ours = [u for u in usage if u.request_id.startswith(f"demo-{run}")]
    total = sum(u.cost_usd or 0.0 for u in ours)  # null: a model without a known price
    print(
        f"\n{len(results)}/{len(requests)} answered in {elapsed:.2f} s; {len(ours)} usage events, "
        f"total cost ${total:.6f}; dead letters: {len(letters)} "
        f"({', '.join(sorted({d.reason for d in letters}))})"
    )
    return 0 if len(results) == len(requests) else 1


def _print_table(requests: list[LLMRequest], results: dict[str, LLMResult]) -> None:
    header = (
        f"{'id':<14} {'tenant':<7} {'status':<8} {'code':<20} {'model':<17} {'cached':<6} {'in':>5} {'out':>5} "
        f"{'cost $':>10} {'ms':>6} {'tries':>5}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for request in requests:
        r = results.get(request.id)
        if r is None:
            print(f"{request.id[-14:]:<14} {request.tenant:<7} {'MISSING':<8}")
            continue
        code = r.error.code.value if r.error else ""
        print(
            f"{request.id[-14:]:<14} {request.tenant:<7} {r.status:<8} {code:<20} {r.model or '-':<17} "
            f"{'yes' if r.cached else 'no':<6} {r.usage.input_tokens:>5} {r.usage.output_tokens:>5} "
            f"{'unpriced' if r.cost_usd is None else f'{r.cost_usd:.6f}':>10} {r.latency_ms:>6.0f} {r.attempts:>5}"
        )


async def _read_all(bootstrap: KafkaTarget, topic: str, parse: Any) -> list[Any]:
    return [parse(record.value) for record in await read_topic(bootstrap, topic)]
