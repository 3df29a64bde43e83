"""Completion that survives providers, through the whole pipeline: the real SDKs against the simulator."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for
from tests.support.gateway import clear_faults, gateway_stack, set_fault, simulator_stats

POLICY = {
    "STREAMGATE_RESILIENCE__ATTEMPT_TIMEOUT_S": "1.0",
    "STREAMGATE_RESILIENCE__DEFAULT_RETRY__MAX_ATTEMPTS": "2",
    "STREAMGATE_RESILIENCE__DEFAULT_RETRY__BASE_DELAY_S": "0.05",
    "STREAMGATE_RESILIENCE__BREAKER__FAILURE_THRESHOLD": "3",
    "STREAMGATE_RESILIENCE__BREAKER__COOLDOWN_S": "2",
}


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("res"), extra_env=POLICY) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults_left(stack: DevStack) -> Iterator[None]:
    yield
    clear_faults(stack)


async def answer(stack: DevStack, doc: dict[str, Any]) -> dict[str, Any]:
    await publish(stack, [doc])
    return (await results_for(stack, [doc["id"]]))[doc["id"]][0]


def worker_status(stack: DevStack) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.worker_ports[0]}/status", timeout=5) as r:
        status: dict[str, Any] = json.load(r)
    return status


def breaker(stack: DevStack, model: str) -> dict[str, Any]:
    return next(b for b in worker_status(stack)["breakers"] if b["model"] == model)


def test_the_worker_runs_on_the_configured_event_loop(stack: DevStack) -> None:
    assert worker_status(stack)["event_loop"] == stack.settings.event_loop == "uvloop"


async def test_provider_down_falls_back_to_the_next_link(stack: DevStack) -> None:
    set_fault(stack, model="gpt-4o-mini", error_rate=1.0, error_status=503)
    result = await answer(stack, request("primary is down", model="gpt-4o-mini"))
    assert result["status"] == "ok"
    assert (result["model"], result["provider"]) == ("claude-3-5-haiku", "anthropic")
    outcomes = [(a["model"], a["outcome"]) for a in result["attempt_log"]]
    assert outcomes == [("gpt-4o-mini", "provider_unavailable")] * 2 + [("claude-3-5-haiku", "ok")]
    assert result["attempts"] == 3


async def test_a_hanging_provider_times_out_then_falls_back(stack: DevStack) -> None:
    set_fault(stack, model="claude-3-5-haiku-latest", hang=True)
    started = time.monotonic()
    result = await answer(stack, request("hang on", model="claude-3-5-haiku"))
    assert result["status"] == "ok" and result["model"] == "gpt-4o-mini"
    assert [a["outcome"] for a in result["attempt_log"]] == ["provider_timeout", "provider_timeout", "ok"]
    assert all(0.9 <= a["latency_ms"] / 1000 <= 1.6 for a in result["attempt_log"][:2])
    assert time.monotonic() - started < 10


async def test_429_retry_after_is_respected(stack: DevStack) -> None:
    set_fault(stack, model="gpt-4o", rate_limit=1, retry_after_s=1.0)
    result = await answer(stack, request("slow down", model="gpt-4o"))
    assert result["status"] == "ok" and result["model"] == "gpt-4o"
    assert [a["outcome"] for a in result["attempt_log"]] == ["provider_rate_limited", "ok"]
    assert result["latency_ms"] >= 1000  # waited out the Retry-After before the second attempt


async def test_breaker_opens_on_a_flapping_provider_and_closes_after_the_cooldown(stack: DevStack) -> None:
    set_fault(stack, model="claude-sonnet-4-20250514", error_rate=1.0, error_status=500)
    for i in range(2):  # 2 requests x 2 attempts: the 3rd consecutive failure opens the circuit
        first = await answer(stack, request(f"flap {i}", model="claude-sonnet-4"))
        assert first["status"] == "ok" and first["model"] == "gpt-4o"
    assert breaker(stack, "claude-sonnet-4")["state"] == "open"
    calls_before = simulator_stats(stack)["calls_per_model"].get("claude-sonnet-4-20250514", 0)
    skipped = await answer(stack, request("while open", model="claude-sonnet-4"))
    assert skipped["attempt_log"][0]["outcome"] == "circuit_open" and skipped["model"] == "gpt-4o"
    assert skipped["attempts"] == 1  # the skipped link is not a provider attempt
    assert simulator_stats(stack)["calls_per_model"].get("claude-sonnet-4-20250514", 0) == calls_before

    clear_faults(stack)
    await asyncio.sleep(2.2)  # the cooldown passes: the next request is the half-open probe
    recovered = await answer(stack, request("back again", model="claude-sonnet-4"))
    assert recovered["status"] == "ok" and recovered["model"] == "claude-sonnet-4"
    assert breaker(stack, "claude-sonnet-4")["state"] == "closed"
