"""The cache through the real pipeline: stampede control, the semantic cache and its rebuild after a restart."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import pytest

from bench import probe
from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for, topic_docs
from tests.support.gateway import simulator_stats

SLOW = " #sim:sleep_ms=400"
"""Every provider call of the stampede takes 400 ms, so the identical requests overlap."""


@pytest.fixture
def cache_stack(stack: DevStack) -> DevStack:
    """The shared stack; tenant ``sem`` opts in to the semantic cache (tests/integration/shared_config.py)."""
    return stack


def calls_for(stack: DevStack, ids: list[str]) -> int:
    """Provider calls the simulator saw for these request ids."""
    calls = simulator_stats(stack)["calls_per_request_id"]
    return sum(int(calls.get(i, 0)) for i in ids)


async def test_fifty_identical_concurrent_misses_make_one_provider_call(cache_stack: DevStack, tmp_path: Path) -> None:
    # Never asked before (Redis outlives test runs), and a sentence: a word and 32 hex digits alone read as an
    # encoded payload to the injection guard now and then (~6 % of random ids).
    text = f"How does a stampede start, question {uuid.uuid4().hex}?{SLOW}"
    docs = [request(text, cache={"mode": "default"}) for _ in range(50)]
    ids = [d["id"] for d in docs]
    await publish(cache_stack, docs)
    found = await results_for(cache_stack, ids)
    results = [found[i][0] for i in ids]
    assert all(r["status"] == "ok" for r in results)
    calls = simulator_stats(cache_stack)["calls_per_request_id"]
    seen = {i: (calls.get(i), found[i][0]["cached"], found[i][0]["attempts"]) for i in ids}
    assert calls_for(cache_stack, ids) == 1, seen
    fresh = [r for r in results if not r["cached"]]
    assert len(fresh) == 1 and fresh[0]["cost_usd"] > 0
    coalesced = [r for r in results if r["coalesced"]]
    assert coalesced and all(r["cache_hit"] == "exact" and r["cost_usd"] == 0 for r in coalesced)
    assert len({r["output"] for r in results}) == 1
    usage = await topic_docs(
        cache_stack, cache_stack.settings.topics.usage, lambda recs: set(ids) <= {r.json()["request_id"] for r in recs}
    )
    mine = [u for u in usage if u["request_id"] in set(ids)]
    assert sum(1 for u in mine if u["cost_usd"] > 0) == 1
    assert all(u["saved_usd"] > 0 and u["cache_hit"] == "exact" for u in mine if u["cached"])
    async with aiohttp.ClientSession() as session:
        totals = await probe.metrics(session, cache_stack.worker_ports[0])
    assert totals.get("streamgate_cache_hits_total", 0) >= 49


async def test_semantic_hits_refusals_and_the_rebuild_after_a_restart(cache_stack: DevStack, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    first = request(f"How do I cancel my mobile contract {tag}?", tenant="sem", cache={"mode": "default"})
    await publish(cache_stack, [first])
    assert (await results_for(cache_stack, [first["id"]]))[first["id"]][0]["cached"] is False
    paraphrase = request(f"How can I cancel my mobile contract {tag}?", tenant="sem", cache={"mode": "default"})
    negation = request(f"Don't cancel my mobile contract {tag}", tenant="sem", cache={"mode": "default"})
    other_tenant = request(f"How can I cancel my mobile contract {tag}?", tenant="acme", cache={"mode": "semantic"})
    await publish(cache_stack, [paraphrase, negation, other_tenant])
    found = await results_for(cache_stack, [paraphrase["id"], negation["id"], other_tenant["id"]])
    hit = found[paraphrase["id"]][0]
    assert hit["cached"] and hit["cache_hit"] == "semantic" and 0.8 <= hit["cache_similarity"] < 1
    assert hit["output"] == (await results_for(cache_stack, [first["id"]]))[first["id"]][0]["output"]
    assert found[negation["id"]][0]["cached"] is False
    assert found[other_tenant["id"]][0]["cached"] is False  # never across tenants

    cache_stack.kill("worker-0")  # the in-process index is gone; Redis keeps the durable store
    cache_stack.start_worker(0)
    again = request(f"How can I cancel my mobile contract {tag}?", tenant="sem", cache={"mode": "default"})
    await publish(cache_stack, [again])
    result = (await results_for(cache_stack, [again["id"]], timeout_s=90))[again["id"]][0]
    assert result["cache_hit"] == "semantic" and calls_for(cache_stack, [again["id"]]) == 0
