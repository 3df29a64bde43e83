"""Streamed answers through the real pipeline (broker, Redis, simulator streaming SSE to the official SDKs):
chunks in order before the result and joining to its output, PII never in any chunk, a blocked answer ending
the stream with its error, a cache hit streamed, a retry after partial output, unstreamed requests unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from streams.devtools.dev import DevStack
from tests.integration.helpers import events_for, publish, request
from tests.support.gateway import clear_faults, set_fault, simulator_stats

CARD, PHONE, EMAIL = "4111 1111 1111 1111", "+1 415 555 0132", "jane.doe@example.com"
LONG = (
    "A parcel leaves the warehouse on a pallet, is scanned at the depot, sorted by postcode, loaded onto a van "
    "before dawn and carried to the customer's door, where the driver takes a photo as proof of delivery. "
) * 2 + "#sim:echo"


@pytest.fixture
def streamed(stack: DevStack) -> DevStack:
    """The shared stack, whose tenants ``stream-open`` and ``stream-blocker`` let PII reach the model (echoed back
    by ``#sim:echo``; :data:`tests.integration.shared_config.SHARED_CONFIG`)."""
    return stack


@pytest.fixture(autouse=True)
def no_faults_left(streamed: DevStack) -> Iterator[None]:
    """The stream cut a test sets is cleared even when it was not used (the stack is shared)."""
    yield
    clear_faults(streamed)


def split(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A request's chunks and its one result, checking the result comes last."""
    assert events[-1]["type"] == "result", [e["type"] for e in events]
    assert all(e["type"] == "chunk" for e in events[:-1])
    return events[:-1], events[-1]


def view(chunks: list[dict[str, Any]]) -> str:
    """The client's view of the answer: the deltas since the last reset."""
    text = ""
    for chunk in chunks:
        text = chunk["delta"] if chunk["reset"] else text + chunk["delta"]
    return text


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-haiku"])
async def test_chunks_arrive_in_order_before_the_result_and_join_to_its_output(streamed: DevStack, model: str) -> None:
    plain = request(LONG, model=model, max_tokens=120)
    live = request(LONG, model=model, max_tokens=120, stream=True)
    await publish(streamed, [plain, live])
    found = await events_for(streamed, [plain["id"], live["id"]])
    assert [e["type"] for e in found[plain["id"]]] == ["result"]  # not streamed: the result alone, as before
    chunks, result = split(found[live["id"]])
    assert result["status"] == "ok" and len(chunks) > 3
    assert [c["seq"] for c in chunks] == list(range(len(chunks)))
    assert not any(c["reset"] for c in chunks)
    assert "".join(c["delta"] for c in chunks) == result["output"]
    (unstreamed,) = found[plain["id"]]
    same = ("output", "usage", "cost_usd", "model", "provider", "attempts", "guards")
    assert {k: result[k] for k in same} == {k: unstreamed[k] for k in same}


async def test_a_pii_value_split_across_chunk_boundaries_never_appears_in_any_chunk(streamed: DevStack) -> None:
    text = (
        f"Thanks for the update on my order. For the refund please use my card {CARD}; if anything is unclear "
        f"you can phone me on {PHONE} in the afternoon or write to {EMAIL} at any time. Kind regards. #sim:echo"
    )
    doc = request(text, tenant="stream-open", stream=True)
    await publish(streamed, [doc])
    chunks, result = split((await events_for(streamed, [doc["id"]]))[doc["id"]])
    assert result["status"] == "ok", result["error"]
    assert len(chunks) > 1
    assert view(chunks) == result["output"]
    assert "<CREDIT_CARD>" in result["output"] and "<PHONE_NUMBER>" in result["output"]
    assert "<EMAIL_ADDRESS>" in result["output"]
    for fragment in ("4111", "1111", "415", "555", "0132", "jane.doe", "example.com"):
        assert not any(fragment in c["delta"] for c in chunks), fragment
    (verdict,) = [v for v in result["guards"] if v["guard"] == "pii_output"]
    assert verdict["entities"] == {"CREDIT_CARD": 1, "PHONE_NUMBER": 1, "EMAIL_ADDRESS": 1}


async def test_a_blocked_output_ends_the_stream_with_the_error_result(streamed: DevStack) -> None:
    prefix = "Here is a long enough introduction so that some text streams out before the value, " * 2
    doc = request(
        f"{prefix} then the card {CARD} and more words after it. #sim:echo", tenant="stream-blocker", stream=True
    )
    await publish(streamed, [doc])
    chunks, result = split((await events_for(streamed, [doc["id"]]))[doc["id"]])
    assert result["status"] == "error" and result["output"] is None, result
    assert result["error"]["code"] == "guardrail_blocked" and result["error"]["limit"] == "pii_output.pii_output"
    assert chunks and prefix.startswith(view(chunks).strip())  # text before the card streamed, nothing after
    assert not any("4111" in c["delta"] or "1111" in c["delta"] for c in chunks)


async def test_a_cache_hit_is_streamed_from_the_cached_text(streamed: DevStack) -> None:
    first = request("What is the tallest mountain in Europe?", stream=True, cache={"mode": "default"})
    await publish(streamed, [first])
    await events_for(streamed, [first["id"]])
    again = request("What is the tallest mountain in Europe?", stream=True, cache={"mode": "default"})
    await publish(streamed, [again])
    chunks, result = split((await events_for(streamed, [again["id"]]))[again["id"]])
    assert result["cached"] is True and result["cache_hit"] == "exact" and result["attempts"] == 0
    assert chunks and "".join(c["delta"] for c in chunks) == result["output"]


async def test_a_retry_after_partial_output_sends_no_delta_twice(streamed: DevStack) -> None:
    set_fault(streamed, model="gpt-4o-mini", cut_stream_next=1)
    doc = request(LONG, stream=True, max_tokens=120)
    await publish(streamed, [doc])
    chunks, result = split((await events_for(streamed, [doc["id"]]))[doc["id"]])
    assert result["status"] == "ok" and [a["outcome"] for a in result["attempt_log"]][-1] == "ok"
    assert len(result["attempt_log"]) == 2 and simulator_stats(streamed)["calls_per_request_id"][doc["id"]] == 2
    assert not any(c["reset"] for c in chunks)  # the simulator answered the retry with the same text
    assert "".join(c["delta"] for c in chunks) == result["output"]
