"""What each hop of the pipeline costs, read from the record timestamps of the topics a request crosses.

Every record carries the time its producer appended it, so for one request the gateway's own topics give a
timeline: due (client) -> ``streamgate.admit`` record (intake sent it) -> ``llm.results`` record (account sent it)
-> arrival at the client. These requests are unkeyed, so each one takes the admit hop (a request keyed by tenant
skips it: ``intake`` and the admit hop become one consume). Each segment is one topic hop plus the stages that
consumed it (a request is settled in the worker that screened it, so ``streamgate.settle`` is not on the way
unless its partition moved):

=================  ==========================================================================================
``intake``         llm.requests hop + intake (parse, validate, re-key by tenant, send)
``screen..account``  streamgate.admit hop + screen, cache, route, complete, validate and account, minus provider
``provider``       the provider calls (attempt log)
``delivery``       llm.results hop to the client
=================  ==========================================================================================
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from bench.load import Arrival, Payload, Tap, offer, parse_request
from bench.payloads import misses
from bench.runs import provider_ms
from bench.stats import figures, percentile
from streams.devtools.dev import DevStack

SEGMENTS = ("intake", "screen..account", "provider", "delivery")


def segments(due: float, admit: Arrival, result: Arrival) -> dict[str, float]:
    """The ms spent in each segment by one request."""
    provider = provider_ms(result.data if isinstance(result.data, dict) else {})
    return {
        "intake": (admit.record_ts - due) * 1000.0,
        "screen..account": (result.record_ts - admit.record_ts) * 1000.0 - provider,
        "provider": provider,
        "delivery": (result.received - result.record_ts) * 1000.0,
    }


async def hop_breakdown(
    stack: DevStack,
    producer: AIOKafkaProducer,
    results: Tap,
    tag: str,
    *,
    runs: int,
    rate: float,
    duration_s: float,
) -> dict[str, Any]:
    """p50/p99 (median over ``runs``) of every segment at ``rate`` req/s, and how many requests were timed."""
    topics = stack.settings.topics
    admit = await Tap(stack.kafka, topics.admit, parse_request).start()
    per_run: list[dict[str, float]] = []
    timed = 0
    try:
        for run in range(runs):
            # Unkeyed, so that every request crosses streamgate.admit and the intake hop can be timed.
            payloads = misses(tag, f"h{run}", int(rate * duration_s), keyed=False)
            ids = [p.id for p in payloads]
            due = await _offer_and_wait(producer, topics.requests, results, payloads, rate)
            got_admit = await admit.wait_for(ids, timeout_s=5)
            rows = [segments(due[i][0], got_admit[i], due[i][1]) for i in ids if i in due and i in got_admit]
            timed += len(rows)
            per_run.append(
                {f"{name}_p{q}": percentile([row[name] for row in rows], q) for name in SEGMENTS for q in (50, 99)}
            )
    finally:
        await admit.stop()
    return {"rate": rate, "timed": timed, "segments": figures(per_run)}


async def _offer_and_wait(
    producer: AIOKafkaProducer, topic: str, results: Tap, payloads: list[Payload], rate: float
) -> dict[str, tuple[float, Arrival]]:
    due = await offer(producer, topic, payloads, rate)
    arrived = await results.wait_for(list(due), timeout_s=30)
    return {i: (due[i], arrived[i]) for i in due if i in arrived}
