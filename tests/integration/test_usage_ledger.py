"""The usage ledger end to end: token kinds priced through the real pipeline, ``/metrics`` against what was sent,
and ``streamgate usage`` totals (and ``--reprice``) against the usage events themselves.

Runs on the shared stack, whose ``[metrics] tenants = ["ledger-a"]`` labels ledger-a's cost and every other tenant's
as "other" (tests/integration/shared_config.py)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.catalog import ModelSpec
from streams.cli.main import _parser
from streams.cli.usage_command import run_usage
from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for, topic_docs
from tests.support.gateway import wait_idle
from tests.support.kafka import produce

LONG = "Explain how a river delta forms, what shapes it and why some deltas grow while others shrink. " * 20
KINDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
METRIC_KIND = dict(zip(KINDS, ("input", "cached_input", "cache_write", "output", "reasoning"), strict=True))


async def scrape(stack: DevStack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    url = f"http://127.0.0.1:{stack.worker_ports[0]}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def delta(after: dict[Any, float], before: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def batch(tenant: str) -> list[dict[str, Any]]:
    docs = [request(f"{LONG} #{i} #sim:cached={64 * i}", tenant=tenant, user=f"u{i}") for i in range(4)]
    docs += [
        request(f"{LONG} #{i} #sim:reasoning={40 + i} #sim:cached=32", tenant=tenant, user=f"r{i}", model="o4-mini")
        for i in range(3)
    ]
    docs += [
        request(f"{LONG} #{i} #sim:cached=96 #sim:cache_write={20 * i}", tenant=tenant, model="claude-sonnet-4")
        for i in range(3)
    ]
    docs.append(request("our fault #sim:status=400", tenant=tenant))
    docs.append(request("which model?", tenant=tenant, model="no-such-model"))
    return docs


def usage_args(*extra: str) -> argparse.Namespace:
    return _parser().parse_args(["usage", "--no-progress", "--by", "tenant,model", *extra])


async def test_usage_events_metrics_and_the_report_agree(
    stack: DevStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wait_idle(stack)  # the shared stack: no earlier module's request may move the counters compared below
    before = await scrape(stack)
    docs = batch("ledger-a") + batch("ledger-b")
    await publish(stack, docs)
    cached_text = f"{LONG} cache me {time.time_ns()}"
    first = request(cached_text, tenant="ledger-a", cache={"mode": "default", "ttl_s": 600})
    await publish(stack, [first])
    await results_for(stack, [first["id"]])
    second = request(cached_text, tenant="ledger-a", cache={"mode": "default"})
    await publish(stack, [second])
    docs += [first, second]
    ids = {d["id"] for d in docs}
    results = await results_for(stack, list(ids))
    usage_topic = stack.settings.topics.usage
    events = [
        u
        for u in await topic_docs(stack, usage_topic, lambda rs: ids <= {r.json()["request_id"] for r in rs})
        if u["request_id"] in ids
    ]
    assert len(events) == len(ids)
    by_id = {e["request_id"]: e for e in events}

    # Token kinds reach the usage event and the result, and the cache hit saved what the first answer cost.
    for doc in docs:
        event, (result,) = by_id[doc["id"]], results[doc["id"]]
        assert result["usage"] == {k: event[k] for k in KINDS} and result["cost_usd"] == event["cost_usd"]
        text = doc["messages"][0]["content"]
        if "#sim:cached=" in text and event["status"] == "ok":
            assert event["cached_input_tokens"] == int(text.split("#sim:cached=")[1].split()[0])
    assert by_id[second["id"]]["cached"] and by_id[second["id"]]["saved_usd"] == by_id[first["id"]]["cost_usd"] > 0
    assert all(e["reasoning_tokens"] >= 40 for e in events if e["model"] == "o4-mini")
    assert all(e["price_source"] == "genai-prices@0.2.3" for e in events if e["status"] == "ok")
    assert not any(LONG[:40] in json.dumps(e) for e in events)

    # /metrics against what was sent: tokens by kind, cost (ledger-b is "other"), savings, rejections.
    after = await scrape(stack)
    for model in ("gpt-4o-mini", "o4-mini", "claude-sonnet-4"):
        mine = [e for e in events if e["model"] == model and not e["cached"]]
        for kind in KINDS:
            sent = sum(e[kind] for e in mine)
            assert delta(after, before, "streamgate_tokens_total", model=model, kind=METRIC_KIND[kind]) == sent
        for tenant, label in (("ledger-a", "ledger-a"), ("ledger-b", "other")):
            cost = sum(e["cost_usd"] for e in mine if e["tenant"] == tenant)
            got = delta(after, before, "streamgate_cost_usd_total", model=model, tenant=label)
            assert got == pytest.approx(cost, abs=1e-12)
    saved = delta(after, before, "streamgate_saved_usd_total", model="gpt-4o-mini", tenant="ledger-a")
    assert saved == pytest.approx(by_id[second["id"]]["saved_usd"], abs=1e-12)
    assert delta(after, before, "streamgate_rejections_total", code="model_not_found") == 2
    assert delta(after, before, "streamgate_requests_total", stage="cache", outcome="hit") == 1
    assert delta(after, before, "streamgate_requests_total", stage="complete", outcome="error") == 2
    assert not any(("tenant", "ledger-b") in labels for _, labels in after)
    assert after[("streamgate_price_source_info", (("source", "genai-prices@0.2.3"),))] == 1
    lag_topics = {dict(labels)["topic"] for name, labels in after if name == "streamgate_consumer_lag_events"}
    assert stack.settings.topics.requests in lag_topics
    assert after[("streamgate_in_flight", ())] >= 0 and any(
        n == "streamgate_stage_duration_seconds_count" for n, _ in after
    )

    # At-least-once delivery: a usage event published twice is still one request in the report.
    await produce(stack.bootstrap, usage_topic, [json.dumps(events[0]).encode(), json.dumps(events[5]).encode()])
    html = tmp_path / "r.html"
    await asyncio.to_thread(
        run_usage, stack.settings, lambda: stack.bootstrap, usage_args("--format", "csv", "--html", str(html))
    )
    rows = {(r["tenant"], r["model"]): r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    for tenant in ("ledger-a", "ledger-b"):
        for model in {e["model"] or "-" for e in events if e["tenant"] == tenant}:
            mine = [e for e in events if e["tenant"] == tenant and (e["model"] or "-") == model]
            row = rows[(tenant, model)]
            assert int(row["requests"]) == len(mine)
            assert Decimal(row["cost_usd"]) == sum((Decimal(repr(e["cost_usd"])) for e in mine), Decimal(0))
            assert Decimal(row["saved_usd"]) == sum((Decimal(repr(e["saved_usd"])) for e in mine), Decimal(0))
            for kind in KINDS:
                assert int(row[kind]) == sum(e[kind] for e in mine)
    page = html.read_text()
    assert page.count("<svg") == 3 and "ledger-a" in page

    # --reprice after a negotiated override: gpt-4o-mini input $0.15 -> $0.10 saves 0.05 per uncached input Mtok.
    models = {**stack.settings.models}
    models["gpt-4o-mini"] = ModelSpec(provider="openai", upstream="gpt-4o-mini", input_usd_per_mtok=0.10)
    repriced = stack.settings.model_copy(update={"models": models})
    await asyncio.to_thread(run_usage, repriced, lambda: stack.bootstrap, usage_args("--format", "csv", "--reprice"))
    rows = {(r["tenant"], r["model"]): r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    for tenant in ("ledger-a", "ledger-b"):
        billed = [
            e for e in events if e["tenant"] == tenant and e["model"] == "gpt-4o-mini" and e["status"] == "ok"
            and not e["cached"]
        ]  # fmt: skip
        uncached = sum(e["input_tokens"] - e["cached_input_tokens"] for e in billed)
        assert (
            Decimal(rows[(tenant, "gpt-4o-mini")]["reprice_diff_usd"]) == -Decimal(uncached) * Decimal("0.05") / 10**6
        )
        assert Decimal(rows[(tenant, "o4-mini")]["reprice_diff_usd"]) == 0
