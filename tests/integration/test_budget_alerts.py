"""Budget alerts on a running worker: one event per period and share on the alerts topic, a metric, and no repeat
after a restart (the marks live in the limits table)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from schemas.request import LLMRequest
from streams.devtools.client import GatewayClient, read_topic
from streams.devtools.dev import DevStack
from tests.integration.helpers import request
from tests.support.gateway import gateway_stack

pytestmark = pytest.mark.integration

BUDGET = 0.006  # USD per day for the tenant: ~65 short gpt-4o answers from the simulator (~1.5 % each)


async def spend(stack: DevStack, tenant: str, until_usd: float, limit: int = 80) -> float:
    """Publish one request at a time for ``tenant`` until these answers cost ``until_usd``; what they cost."""
    topics = stack.settings.topics
    spent = 0.0
    async with GatewayClient(stack.kafka, requests_topic=topics.requests, results_topic=topics.results) as client:
        for _ in range(limit):
            doc = LLMRequest.model_validate(request("spend", tenant=tenant, user="ann", model="gpt-4o", max_tokens=16))
            await client.publish([doc])
            result = (await client.collect([doc.id]))[doc.id]
            assert result.status == "ok" and result.cost_usd is not None, (spent, result.error)
            spent += result.cost_usd
            if spent >= until_usd:
                return spent
    raise AssertionError(f"spent only {spent} after {limit} requests")


async def alerts_of(stack: DevStack, tenant: str) -> list[dict[str, Any]]:
    records = await read_topic(stack.kafka, stack.settings.topics.alerts)
    return [doc for doc in (json.loads(r.value or b"{}") for r in records) if doc.get("tenant") == tenant]


def test_each_share_of_a_budget_is_alerted_once_even_after_a_restart(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    tenant = f"alerty-{uuid.uuid4().hex[:6]}"
    config = tmp_path / "alerts.toml"
    config.write_text(
        f"[limits]\nalert_shares = [0.5, 0.8]\n\n[limits.tenants.{tenant}.tenant]\nusd_per_day = {BUDGET}\n"
    )
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path, config_file=config) as stack:
        assert asyncio.run(spend(stack, tenant, 0.3 * BUDGET)) < 0.5 * BUDGET
        assert asyncio.run(alerts_of(stack, tenant)) == []
        asyncio.run(spend(stack, tenant, 0.25 * BUDGET))  # past 50 % in all
        asyncio.run(spend(stack, tenant, 0.3 * BUDGET))  # past 80 % (~0.85 in all), still under the budget
        (worker,) = stack.describe()["workers"]  # type: ignore[misc]
        with urllib.request.urlopen(f"{worker}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert 'streamgate_budget_alerts_total{limit="usd_per_day",scope="tenant",share="0.5"} 1.0' in text
        stack.kill("worker-0")  # the marks must come back from the changelog: no second alert after a crash
        stack.start_worker(0)
        asyncio.run(stack.wait_ready())
        asyncio.run(spend(stack, tenant, 0.0))  # one more request
        alerts = asyncio.run(alerts_of(stack, tenant))
    shares = sorted((a["scope"], a["limit"], a["share"]) for a in alerts)
    assert shares == [("tenant", "usd_per_day", 0.5), ("tenant", "usd_per_day", 0.8)], alerts
    for alert in alerts:
        assert alert["spent_usd"] >= alert["share"] * BUDGET and alert["limit_usd"] == BUDGET
        assert alert["user"] is None and len(alert["period"]) == 10
