"""Routing through the whole pipeline: a cascade escalating on schema-invalid output, the allow-list, registry
prompts, and a replay of a known run into shadow topics with its comparison."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from agents.shadow import Variant
from gateway.settings import Settings
from schemas.result import LLMResult
from streams.cli.replay import Window, run_replay
from streams.devtools.client import read_topic
from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for, topic_docs
from tests.support.gateway import clear_faults, set_fault, simulator_stats, wait_idle

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
# The tasks, the allow-listed tenant and the registry prompts are in the shared stack's config
# (tests/integration/shared_config.py).


@pytest.fixture(autouse=True)
def no_faults_left(stack: DevStack) -> Iterator[None]:
    yield
    clear_faults(stack)


async def answer(stack: DevStack, doc: dict[str, Any]) -> dict[str, Any]:
    await publish(stack, [doc])
    return (await results_for(stack, [doc["id"]]))[doc["id"]][0]


async def test_a_cascade_escalates_on_schema_invalid_output_and_pays_each_step_once(stack: DevStack) -> None:
    set_fault(stack, model="gpt-4o-mini", bad_json=True)
    doc = request("Where is the Eiffel tower?", tenant="initech", task="extract", response_format=SCHEMA)
    result = await answer(stack, doc)
    assert result["status"] == "ok" and result["model"] == "gpt-4o" and set(result["parsed"]) >= {"city"}
    steps = result["route"]["cascade"]
    assert [(s["model"], s["outcome"]) for s in steps] == [("gpt-4o-mini", "output_invalid"), ("gpt-4o", "ok")]
    assert all(s["cost_usd"] > 0 for s in steps)
    assert result["cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in steps))
    assert simulator_stats(stack)["calls_per_request_id"][doc["id"]] == 2
    # A duplicate publish is answered again without paying for either step a second time.
    await publish(stack, [doc])
    answers = await topic_docs(
        stack, stack.settings.topics.results, lambda rs: sum(r.json()["id"] == doc["id"] for r in rs) >= 2
    )
    again = [a for a in answers if a["id"] == doc["id"]]
    assert len(again) == 2 and again[1]["route"] == result["route"] and again[1]["output"] == result["output"]
    assert simulator_stats(stack)["calls_per_request_id"][doc["id"]] == 2
    usage = await topic_docs(
        stack, stack.settings.topics.usage, lambda rs: any(r.json()["request_id"] == doc["id"] for r in rs)
    )
    event = next(u for u in usage if u["request_id"] == doc["id"])
    assert event["cascade_steps"] == 2 and event["cost_usd"] == pytest.approx(result["cost_usd"])


async def test_a_good_cheap_answer_is_the_only_step(stack: DevStack) -> None:
    result = await answer(stack, request("Where is Big Ben?", tenant="initech", task="extract", response_format=SCHEMA))
    assert result["status"] == "ok" and result["model"] == "gpt-4o-mini"
    assert [s["outcome"] for s in result["route"]["cascade"]] == ["ok"]


async def test_the_allow_list_and_task_tiers(stack: DevStack) -> None:
    refused = await answer(stack, request("hi", tenant="allow-listed", model="gpt-4o"))
    assert refused["status"] == "rejected" and refused["error"]["code"] == "model_not_allowed"
    assert refused["attempts"] == 0
    classified = await answer(stack, request("spam or ham?", tenant="initech", task="classify"))
    assert classified["status"] == "ok" and classified["model"] == "gpt-4o-mini" and classified["route"] is None


async def test_a_registry_prompt_is_rendered_and_its_version_reported(stack: DevStack) -> None:
    prompt = {"name": "summarise", "version": "3", "variables": {"text": "Kafka keeps a log.", "words": "5"}}
    result = await answer(stack, request("", tenant="initech", messages=[], prompt=prompt))
    assert result["status"] == "ok" and (result["prompt_name"], result["prompt_version"]) == ("summarise", "3")
    missing = await answer(
        stack, request("", tenant="initech", messages=[], prompt={"name": "summarise", "version": "3"})
    )
    assert missing["status"] == "rejected" and missing["error"]["code"] == "invalid_request"
    assert "words" in missing["error"]["message"]


def replay_settings(stack: DevStack) -> Settings:
    assert stack.simulator_url is not None
    return stack.settings.model_copy(
        update={
            "openai_base_url": f"{stack.simulator_url}/v1",
            "anthropic_base_url": stack.simulator_url,
            "openai_api_key": SecretStr("sk-simulator"),
            "anthropic_api_key": SecretStr("simulator"),
        }
    )


async def test_a_replay_reruns_a_known_run_into_shadow_topics_only(stack: DevStack) -> None:
    wait_idle(stack)  # nothing of an earlier module's lands on the topics counted below
    started = int(time.time() * 1000)
    tenant = f"replay{started % 100_000}"
    docs = [request(f"Tell me about river {i}.", tenant=tenant, task="classify") for i in range(4)]
    docs += [request(f"Where is landmark {i}?", tenant=tenant, response_format=SCHEMA) for i in range(2)]
    docs.append(
        request("", tenant=tenant, messages=[], prompt={"name": "summarise", "variables": {"text": "t", "words": "3"}})
    )
    await publish(stack, docs)
    recorded = await results_for(stack, [d["id"] for d in docs])
    assert all(r[0]["status"] == "ok" for r in recorded.values())
    changelog = f"{stack.settings.app_id}-usage-changelog"
    usage_before = len(await read_topic(stack.bootstrap, changelog))
    results_before = len(await read_topic(stack.bootstrap, stack.settings.topics.results))

    shadow_topic = f"{stack.settings.topics.results}.shadow"
    comparison = await run_replay(
        replay_settings(stack),
        stack.bootstrap,
        Window(started - 1, int(time.time() * 1000)),
        Variant(model="gpt-4o", prompt_version="2"),
        shadow_results=shadow_topic,
        shadow_usage=f"{stack.settings.topics.usage}.shadow",
    )
    print(comparison.render())
    assert comparison.recorded.requests == comparison.shadow.requests == len(docs)
    assert comparison.shadow.pass_rate == 1.0 and comparison.changed == len(docs)  # another model, another answer
    assert comparison.shadow.cost_usd > comparison.recorded.cost_usd  # gpt-4o costs more than gpt-4o-mini
    shadows = [LLMResult.model_validate(d) for d in await topic_docs(stack, shadow_topic, len(docs))]
    assert all(r.id.startswith("shadow.") for r in shadows)
    assert sorted(r.id.split(".", 2)[2] for r in shadows) == sorted(d["id"] for d in docs)
    assert {r.model for r in shadows} == {"gpt-4o"}
    assert {r.prompt_version for r in shadows if r.prompt_name} == {"2"}
    # Nothing reached a client's topic or a tenant's limits.
    assert len(await read_topic(stack.bootstrap, stack.settings.topics.results)) == results_before
    assert len(await read_topic(stack.bootstrap, changelog)) == usage_before


async def test_the_readme_cascade_saving(stack: DevStack) -> None:
    """The README's worked example: 100 `extract` requests, 20 of which get schema-invalid cheap answers."""
    text = "Extract the city from: 'The Eiffel tower stands in Paris, on the Champ de Mars, since 1889.' #{}"

    async def run(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        await publish(stack, docs)
        found = await results_for(stack, [d["id"] for d in docs])
        return [found[d["id"]][0] for d in docs]

    def extract(i: int, **fields: Any) -> dict[str, Any]:
        return request(text.format(i), tenant="saving", user=f"u{i}", response_format=SCHEMA, max_tokens=64, **fields)

    passing = await run([extract(i, task="extract") for i in range(80)])
    set_fault(stack, model="gpt-4o-mini", bad_json=True)
    escalated = await run([extract(100 + i, task="extract") for i in range(20)])
    stack.simulator_fault(model="gpt-4o-mini", bad_json=False)
    direct = await run([extract(200 + i, model="gpt-4o") for i in range(100)])
    assert all(r["status"] == "ok" for r in passing + escalated + direct)
    assert all(len(r["route"]["cascade"]) == 1 for r in passing)
    assert all([s["outcome"] for s in r["route"]["cascade"]] == ["output_invalid", "ok"] for r in escalated)
    cascade_usd = sum(r["cost_usd"] for r in passing + escalated)
    direct_usd = sum(r["cost_usd"] for r in direct)
    print(f"\ncascade ${cascade_usd:.6f} (80 cheap, 20 escalated) vs gpt-4o ${direct_usd:.6f}: "
          f"{1 - cascade_usd / direct_usd:.1%} less")  # fmt: skip
    assert cascade_usd < direct_usd
