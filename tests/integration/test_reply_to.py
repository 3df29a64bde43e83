"""reply_to on a real broker: internal topics and missing topics are refused on the results topic, never written
to or created; an allowed existing topic gets its result."""

from __future__ import annotations

import json
import uuid

from schemas.codes import ErrorCode
from streams.devtools.client import read_topic
from streams.devtools.dev import DevStack
from streams.runtime.admin import ensure_topics, list_topic_names
from tests.integration.helpers import limits_cli, publish, request, results_for
from tests.support.kafka import consume_until, produce

TENANT = "replyto-co"  # only refused requests: its limits must show nothing used or reserved


def internal_topics(stack: DevStack) -> list[str]:
    topics, app_id = stack.settings.topics, stack.settings.app_id
    return [
        topics.usage,
        topics.dlq,
        topics.admit,
        topics.settle,
        topics.requests,
        f"{app_id}-usage-changelog",
        f"{app_id}-requests-changelog",
    ]


async def keys_on(stack: DevStack, topic: str) -> set[bytes]:
    return {record.key for record in await read_topic(stack.bootstrap, topic) if record.key is not None}


async def test_reply_to_an_internal_topic_is_refused_on_the_results_topic(stack: DevStack) -> None:
    targets = internal_topics(stack)
    assert set(targets) <= await list_topic_names(stack.bootstrap)  # the changelogs exist: the worker is up
    docs = [request(f"reply to {topic}", tenant=TENANT, reply_to=topic) for topic in targets]
    bad_id = f"bad-{uuid.uuid4().hex[:8]}"  # an invalid event naming an internal reply_to is answered the same way
    invalid = {"v": 1, "id": bad_id, "tenant": TENANT, "reply_to": stack.settings.topics.usage}
    await publish(stack, docs)
    await produce(stack.bootstrap, stack.settings.topics.requests, [json.dumps(invalid).encode()])

    found = await results_for(stack, [d["id"] for d in docs] + [bad_id])
    for doc in docs:
        (result,) = found[doc["id"]]
        assert result["status"] == "rejected" and result["error"]["code"] == ErrorCode.INVALID_REQUEST, result
        assert "not a reply topic" in result["error"]["message"]
    assert found[bad_id][0]["error"]["code"] == ErrorCode.INVALID_REQUEST

    # Results are keyed by request id; none of those keys may appear on an internal topic.
    ids = {d["id"].encode() for d in docs} | {bad_id.encode()}
    for topic in targets:
        assert not ids & await keys_on(stack, topic), f"a result was written to {topic}"
    usage = [r.value for r in await read_topic(stack.bootstrap, stack.settings.topics.usage)]
    refused = [u for u in map(json.loads, usage) if u["request_id"] in {d["id"] for d in docs}]
    assert sorted(u["request_id"] for u in refused) == sorted(d["id"] for d in docs)  # usage as any rejection
    assert {u["status"] for u in refused} == {"rejected"}

    report = limits_cli(stack, TENANT, "alice")  # reads the usage changelog: fails if a result corrupted it
    for view in report["tenant"]["limits"].values():
        assert view["used"] == 0 and view["reserved"] == 0  # refused before any reservation


async def test_an_allowed_existing_reply_topic_gets_its_result(stack: DevStack) -> None:
    mine = f"llm.results.mine-{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.bootstrap, [(mine, 1)])
    doc = request("answer me on my topic", reply_to=mine)
    await publish(stack, [doc])
    records = await consume_until(stack.bootstrap, mine, 1)
    (result,) = [r.json() for r in records]
    assert result["id"] == doc["id"] and result["status"] == "ok"


async def test_an_allowed_but_missing_reply_topic_is_refused_and_not_created(stack: DevStack) -> None:
    missing = f"llm.results.missing-{uuid.uuid4().hex[:8]}"
    doc = request("answer me on a topic nobody made", reply_to=missing)
    await publish(stack, [doc])
    (result,) = (await results_for(stack, [doc["id"]]))[doc["id"]]
    assert result["status"] == "rejected" and result["error"]["code"] == ErrorCode.INVALID_REQUEST
    assert "does not exist" in result["error"]["message"]
    assert missing not in await list_topic_names(stack.bootstrap)
