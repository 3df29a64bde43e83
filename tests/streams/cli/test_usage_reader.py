"""Reading the usage topic on a real broker: every event in the range, however the producer batched them."""

from __future__ import annotations

from gateway.usage_report.timerange import TimeRange
from schemas.usage import UsageEvent
from streams.cli.usage_reader import read_usage
from streams.devtools.embedded_broker import ensure_topics
from tests.support.kafka import produce, unique_name


def usage(n: int, ts_ms: int) -> bytes:
    event = UsageEvent(
        request_id=f"r{n}", tenant=f"t{n % 3}", user="u", task="chat", model="gpt-4o-mini", provider="openai",
        status="ok", input_tokens=10, output_tokens=2, cost_usd=0.0000027, cached=False, latency_ms=5.0,
        attempts=1, ts_ms=ts_ms,
    )  # fmt: skip
    return event.model_dump_json().encode()


async def test_every_event_of_large_batches_is_read_and_the_range_applies(kafka_bootstrap: str) -> None:
    topic = unique_name("usage")
    await ensure_topics(kafka_bootstrap, [(topic, 3)])
    # One producer batch per partition of ~1,000 records: the embedded broker reports such a partition's end as
    # its last batch's base offset + 1, so a reader that stops at the end offsets misses almost all of them.
    await produce(kafka_bootstrap, topic, [usage(n, 1_000 + n) for n in range(3_000)] + [b"not json"])
    events, bad = await read_usage(kafka_bootstrap, topic, TimeRange(), progress=False)
    assert len(events) == 3_000 and len({e.request_id for e in events}) == 3_000 and bad == 1
    window, _ = await read_usage(kafka_bootstrap, topic, TimeRange(1_500, 2_000), progress=False)
    assert sorted(e.ts_ms for e in window) == list(range(1_500, 2_000))
