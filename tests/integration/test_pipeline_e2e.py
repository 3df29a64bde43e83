"""The whole pipeline on a real broker and Redis, driven only through Kafka as a client would."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import aiohttp

from bench import probe
from schemas.codes import ErrorCode
from streams.devtools.dev import DevStack
from tests.integration.helpers import duplicates, publish, request, results_for, topic_docs
from tests.support.gateway import simulator_stats


async def test_every_request_comes_back_once_with_its_fields(stack: DevStack) -> None:
    docs = [request(f"question number {i}", user=f"u{i % 3}", metadata={"n": i}) for i in range(24)]
    keys: list[bytes | None] = [None, b"random-key", b"acme"] * 8  # clients may key requests any way
    await publish(stack, docs, keys)
    found = await results_for(stack, [d["id"] for d in docs])
    await asyncio.sleep(1.0)  # a late duplicate would show up in this window
    found = await results_for(stack, [d["id"] for d in docs])
    assert not duplicates(found)
    for doc in docs:
        (result,) = found[doc["id"]]
        assert result["v"] == 1 and result["status"] == "ok", result
        assert result["output"] and result["model"] == "gpt-4o-mini" and result["provider"] == "openai"
        assert result["usage"]["input_tokens"] > 0 and result["usage"]["output_tokens"] > 0
        assert result["cost_usd"] > 0 and result["latency_ms"] > 0 and result["attempts"] == 1
        assert result["cached"] is False and result["error"] is None
        assert result["metadata"] == doc["metadata"]
    usage = await topic_docs(
        stack,
        stack.settings.topics.usage,
        lambda rs: {d["id"] for d in docs} <= {r.json()["request_id"] for r in rs},
    )
    mine = [u for u in usage if u["request_id"] in {d["id"] for d in docs}]
    assert len(mine) == len(docs)
    for event in mine:
        assert event["tenant"] == "acme" and event["status"] == "ok" and event["cost_usd"] > 0
        assert "question number" not in json.dumps(event)  # never prompt or output text


async def test_bad_events_go_to_the_dead_letter_topic_and_the_worker_keeps_going(stack: DevStack) -> None:
    bad_id = f"bad-{time.time_ns()}"
    raw = [b"\xff not json", b"[1, 2, 3]", json.dumps({"v": 1, "id": bad_id, "tenant": "acme"}).encode()]
    from tests.support.kafka import produce

    await produce(stack.bootstrap, stack.settings.topics.requests, raw)
    good = request("still alive?")
    await publish(stack, [good])
    found = await results_for(stack, [good["id"], bad_id])
    assert found[good["id"]][0]["status"] == "ok"
    rejected = found[bad_id][0]
    assert rejected["status"] == "rejected" and rejected["error"]["code"] == ErrorCode.INVALID_REQUEST
    letters = await topic_docs(
        stack,
        stack.settings.topics.dlq,
        lambda rs: {base64.b64decode(r.json()["raw_b64"]) for r in rs} >= set(raw),
    )
    by_raw = {base64.b64decode(d["raw_b64"]): d for d in letters}
    assert by_raw[raw[0]]["reason"] == "not_json"
    assert by_raw[raw[1]]["reason"] == "not_object"
    assert by_raw[raw[2]]["reason"] == "schema" and "user" in by_raw[raw[2]]["detail"]
    assert all(d["topic"] == stack.settings.topics.requests and d["offset"] >= 0 for d in by_raw.values())


async def test_a_failing_provider_gives_an_error_result_listing_every_attempt(stack: DevStack) -> None:
    doc = request("this will fail #sim:status=500")
    await publish(stack, [doc])
    (result,) = (await results_for(stack, [doc["id"]]))[doc["id"]]
    assert result["status"] == "error"
    assert result["error"]["code"] == ErrorCode.ALL_PROVIDERS_FAILED
    assert {d["model"] for d in result["error"]["details"]} == {"gpt-4o-mini", "claude-3-5-haiku"}
    assert result["attempts"] == len(result["attempt_log"]) >= 2
    assert all(a["outcome"] == "provider_unavailable" for a in result["attempt_log"])
    assert result["cost_usd"] == 0


async def test_a_bad_request_is_not_retried(stack: DevStack) -> None:
    doc = request("our fault #sim:status=400")
    await publish(stack, [doc])
    (result,) = (await results_for(stack, [doc["id"]]))[doc["id"]]
    assert result["status"] == "error" and result["error"]["code"] == ErrorCode.PROVIDER_BAD_REQUEST
    assert simulator_stats(stack)["calls_per_request_id"][doc["id"]] == 1


async def test_json_schema_output_is_parsed_and_validated(stack: DevStack) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["answer", "score"],
    }
    good = request("rate this", response_format=schema)
    await publish(stack, [good])
    ok = (await results_for(stack, [good["id"]]))[good["id"]][0]
    assert ok["status"] == "ok" and isinstance(ok["parsed"]["answer"], str)
    assert json.loads(ok["output"]) == ok["parsed"]


async def test_invalid_output_is_retried_once_with_the_validation_error(stack: DevStack) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    # The directive spoils the first answer only: the retry's last user message is the corrective turn.
    fixed = request("rate this badly #sim:bad_json", response_format=schema)
    impossible = request(
        "never valid",
        response_format={
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}},
            "required": ["n"],
        },
    )
    await publish(stack, [fixed, impossible])
    found = await results_for(stack, [fixed["id"], impossible["id"]])
    repaired = found[fixed["id"]][0]
    assert repaired["status"] == "ok" and isinstance(repaired["parsed"]["answer"], str)
    assert repaired["attempts"] == 2
    failed = found[impossible["id"]][0]
    assert failed["status"] == "error" and failed["error"]["code"] == ErrorCode.OUTPUT_INVALID
    # Both calls were answered, so both were paid: the failed request is charged for them like any other.
    assert failed["cost_usd"] > repaired["cost_usd"] / 4 and failed["usage"]["input_tokens"] > 0
    calls = simulator_stats(stack)["calls_per_request_id"]
    assert calls[fixed["id"]] == 2 and calls[impossible["id"]] == 2  # the call and exactly one retry


async def test_oversized_and_expired_requests_are_answered_without_a_provider_call(stack: DevStack) -> None:
    big = request("x" * (stack.settings.guards.max_prompt_chars + 1))
    late = request("too late", deadline_ms=int(time.time() * 1000) - 1000)
    unknown = request("which model?", model="no-such-model")
    bad_schema = request("json please", response_format={"type": 12})
    await publish(stack, [big, late, unknown, bad_schema])
    found = await results_for(stack, [big["id"], late["id"], unknown["id"], bad_schema["id"]])
    assert found[bad_schema["id"]][0]["error"]["code"] == ErrorCode.INVALID_REQUEST
    assert found[bad_schema["id"]][0]["error"]["limit"] == "response_format.schema"
    assert found[big["id"]][0]["error"]["code"] == ErrorCode.PAYLOAD_TOO_LARGE
    assert found[big["id"]][0]["status"] == "rejected"
    assert found[late["id"]][0]["status"] == "error"
    assert found[late["id"]][0]["error"]["code"] == ErrorCode.DEADLINE_EXCEEDED
    assert found[unknown["id"]][0]["error"]["code"] == ErrorCode.MODEL_NOT_FOUND
    calls = simulator_stats(stack)["calls_per_request_id"]
    assert all(doc["id"] not in calls for doc in (big, late, unknown, bad_schema))


async def test_repeated_prompt_is_served_from_the_cache(stack: DevStack) -> None:
    text = f"cache me {time.time_ns()}"
    first = request(text, cache={"mode": "default", "ttl_s": 60})
    await publish(stack, [first])
    await results_for(stack, [first["id"]])
    second = request(text, cache={"mode": "default"})
    await publish(stack, [second])
    found = await results_for(stack, [first["id"], second["id"]])
    a, b = found[first["id"]][0], found[second["id"]][0]
    assert a["cached"] is False and b["cached"] is True
    assert b["output"] == a["output"] and b["cost_usd"] == 0 and b["attempts"] == 0
    assert second["id"] not in simulator_stats(stack)["calls_per_request_id"]


async def test_a_duplicate_publish_never_pays_twice(stack: DevStack) -> None:
    doc = request("pay once #sim:sleep_ms=500")
    await publish(stack, [doc, doc])  # concurrent duplicates: coalesced
    await results_for(stack, [doc["id"]])
    await publish(stack, [doc])  # after completion: answered again from the stored completion
    await asyncio.sleep(1.5)
    found = await results_for(stack, [doc["id"]])
    outputs = {r["output"] for r in found[doc["id"]]}
    assert len(outputs) == 1 and all(r["status"] == "ok" for r in found[doc["id"]])
    assert 1 <= len(found[doc["id"]]) <= 2
    assert simulator_stats(stack)["calls_per_request_id"][doc["id"]] == 1


async def test_requests_keyed_by_tenant_skip_the_admit_hop(stack: DevStack) -> None:
    docs = [request(f"keyed {i}", tenant=f"direct-{i % 4}") for i in range(12)]
    await publish(stack, docs, [d["tenant"].encode() for d in docs])
    found = await results_for(stack, [d["id"] for d in docs])
    assert not duplicates(found) and all(found[d["id"]][0]["status"] == "ok" for d in docs)
    # Everything the keyed requests caused has happened; an unkeyed request published now reaches the admit
    # topic after anything they could have put there.
    marker = request("unkeyed marker")
    await publish(stack, [marker])
    admitted = await topic_docs(
        stack, stack.settings.topics.admit, lambda rs: any(r.json()["id"] == marker["id"] for r in rs)
    )
    assert not {d["id"] for d in docs} & {a["id"] for a in admitted}
    async with aiohttp.ClientSession() as session:
        totals = await probe.metrics(session, stack.worker_ports[0])
    assert totals.get("streamgate_direct_screened_total", 0.0) >= len(docs)


async def test_a_duplicate_on_the_other_path_never_pays_twice(stack: DevStack) -> None:
    doc = request("pay once, keyed or not")
    await publish(stack, [doc], [doc["tenant"].encode()])  # screened directly
    await results_for(stack, [doc["id"]])
    await publish(stack, [doc])  # the same id unkeyed, via streamgate.admit: answered from the stored completion
    await asyncio.sleep(1.5)
    found = await results_for(stack, [doc["id"]])
    assert len(found[doc["id"]]) == 2 and len({r["output"] for r in found[doc["id"]]}) == 1
    assert simulator_stats(stack)["calls_per_request_id"][doc["id"]] == 1
