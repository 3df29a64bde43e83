"""Fault injection (per model and ``"*"``), seen through the SDKs' typed exceptions."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from gateway.simulator import SimulatorConfig, SimulatorServer

GPT = "gpt-4o-mini"
CLAUDE = "claude-3-5-haiku-latest"


def _user(text: str) -> Any:
    return [{"role": "user", "content": text}]


async def _gpt(client: openai.AsyncOpenAI, text: str = "hi", model: str = GPT, **kwargs: Any) -> str:
    reply = await client.chat.completions.create(model=model, messages=_user(text), **kwargs)
    return reply.choices[0].message.content or ""


async def _claude(client: anthropic.AsyncAnthropic, text: str = "hi", **kwargs: Any) -> anthropic.types.Message:
    message: anthropic.types.Message = await client.messages.create(
        model=CLAUDE, max_tokens=50, messages=_user(text), **kwargs
    )
    return message


async def test_rate_limit_gives_rate_limit_error_with_retry_after(
    sim: SimulatorServer, oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    sim.set_fault(GPT, rate_limit=2, retry_after_s=3)
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            await _gpt(oai)
        assert caught.value.status_code == 429
        assert caught.value.response.headers["retry-after"] == "3"
        assert caught.value.code == "rate_limit_exceeded"
    assert await _gpt(oai)  # the two rate-limited calls are spent
    sim.set_fault(CLAUDE, rate_limit=-1, retry_after_s=0.5)
    for _ in range(3):
        with pytest.raises(anthropic.RateLimitError) as err:
            await _claude(claude)
        assert err.value.response.headers["retry-after"] == "0.5"
        assert err.value.type == "rate_limit_error"


async def test_fail_next_fails_n_calls_then_recovers(
    sim: SimulatorServer, oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    sim.set_fault(GPT, fail_next=2)
    sim.set_fault(CLAUDE, fail_next=1, fail_status=529)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as caught:
            await _gpt(oai)
        assert caught.value.status_code == 500
        assert caught.value.body is not None
    assert await _gpt(oai)
    with pytest.raises(anthropic.InternalServerError) as err:
        await _claude(claude)
    assert err.value.status_code == 529 and err.value.type == "overloaded_error"
    assert (await _claude(claude)).content
    assert sim.stats.calls_for_model(GPT) == 3 and sim.stats.ok_per_model[GPT] == 1


async def test_model_fault_overrides_default_and_default_applies_to_others(
    sim: SimulatorServer, oai: openai.AsyncOpenAI
) -> None:
    sim.set_fault("*", error_rate=1.0, error_status=503)
    sim.set_fault(GPT, latency_ms=1)
    assert await _gpt(oai)  # GPT has its own (harmless) spec
    with pytest.raises(openai.InternalServerError) as caught:
        await _gpt(oai, model="gpt-4o")
    assert caught.value.status_code == 503
    sim.clear_faults()
    assert await _gpt(oai, model="gpt-4o")


async def test_hang_never_answers_until_the_client_times_out(
    sim: SimulatorServer, oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    sim.set_fault("*", hang=True)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await _gpt(oai, timeout=0.3)
    with pytest.raises(anthropic.APITimeoutError):
        await _claude(claude, timeout=0.3)
    assert time.monotonic() - started < 3
    for _ in range(50):  # the abandoned handlers are cancelled, not left sleeping
        if sim.stats.in_flight == 0:
            break
        await asyncio.sleep(0.02)
    assert sim.stats.in_flight == 0


async def test_malformed_body_breaks_json_decoding(
    sim: SimulatorServer, oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    sim.set_fault("*", malformed=True)
    with pytest.raises(json.JSONDecodeError):
        await _gpt(oai)
    with pytest.raises(json.JSONDecodeError):
        await _claude(claude)
    with pytest.raises(json.JSONDecodeError):
        stream = await oai.chat.completions.create(model=GPT, messages=_user("s"), stream=True)
        async for _ in stream:
            pass
    assert sim.stats.total_calls == 3 and sim.stats.total_ok == 0


async def test_latency_and_jitter_delay_the_answer(sim: SimulatorServer, oai: openai.AsyncOpenAI) -> None:
    sim.set_fault(GPT, latency_ms=150, jitter_ms=50)
    started = time.monotonic()
    await _gpt(oai)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 1.0


async def test_error_rate_is_deterministic_for_a_seed() -> None:
    async def pattern(seed: int) -> list[bool]:
        config = SimulatorConfig(seed=seed, faults={"*": {"error_rate": 0.5}})
        async with SimulatorServer(config=config) as server:
            client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
            outcomes = []
            for _ in range(24):
                try:
                    await _gpt(client)
                    outcomes.append(True)
                except openai.InternalServerError:
                    outcomes.append(False)
            await client.close()
            return outcomes

    first, again, other = await pattern(1), await pattern(1), await pattern(2)
    assert first == again
    assert first != other
    assert 3 <= first.count(False) <= 21


async def test_reset_restores_the_configured_faults() -> None:
    config = SimulatorConfig(faults={GPT: {"fail_next": 1}})
    async with SimulatorServer(config=config) as server:
        client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
        with pytest.raises(openai.InternalServerError):
            await _gpt(client)
        assert await _gpt(client)
        server.reset()
        with pytest.raises(openai.InternalServerError):
            await _gpt(client)
        server.clear_faults()
        server.reset()
        with pytest.raises(openai.InternalServerError):
            await _gpt(client)
        await client.close()
        assert server.stats.total_calls == 1


async def test_thousand_concurrent_slow_calls_are_held_cheaply(sim: SimulatorServer) -> None:
    # A raw aiohttp client: the SDK's own connection pool, not the simulator, is the bottleneck at this scale.
    # Calls long enough that the last of the 1,000 is sent before the first is answered, even on a busy machine.
    sim.set_fault(GPT, latency_ms=3000)
    headers = {"Authorization": "Bearer k"}
    url = f"{sim.openai_base_url}/chat/completions"

    async def call(http: aiohttp.ClientSession, i: int) -> int:
        body = {"model": GPT, "messages": _user(f"question {i}")}
        async with http.post(url, json=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        statuses = await asyncio.gather(*(call(http, i) for i in range(1000)))
    assert set(statuses) == {200}
    assert sim.stats.peak_in_flight == 1000
    assert sim.stats.total_ok == 1000
