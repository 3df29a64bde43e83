"""Stats per gateway request id and the ``/_sim/`` admin API."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from typing import Any

import aiohttp
import openai
import pytest

from gateway.simulator import REQUEST_ID_HEADER, SimulatorConfig, SimulatorServer, serve_forever

GPT = "gpt-4o-mini"


def _user(text: str) -> Any:
    return [{"role": "user", "content": text}]


async def test_stats_count_calls_and_successes_per_request_id(sim: SimulatorServer, oai: openai.AsyncOpenAI) -> None:
    sim.set_fault(GPT, fail_next=2)
    headers = {REQUEST_ID_HEADER: "req-A"}
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            await oai.chat.completions.create(model=GPT, messages=_user("a"), extra_headers=headers)
    await oai.chat.completions.create(model=GPT, messages=_user("a"), extra_headers=headers)
    await oai.chat.completions.create(model=GPT, messages=_user("b"), extra_headers={REQUEST_ID_HEADER: "req-B"})
    await oai.chat.completions.create(model="gpt-4o", messages=_user("c"))
    assert sim.stats.calls_for("req-A") == 3 and sim.stats.successes_for("req-A") == 1
    assert sim.stats.calls_for("req-B") == 1 and sim.stats.successes_for("req-B") == 1
    assert sim.stats.calls_for("req-unknown") == 0
    assert sim.stats.calls_for_model(GPT) == 4 and sim.stats.calls_for_model("gpt-4o") == 1
    assert sim.stats.total_calls == 5 and sim.stats.total_ok == 3
    async with aiohttp.ClientSession() as http, http.get(f"{sim.base_url}/_sim/stats") as resp:
        snapshot = await resp.json()
    assert snapshot["total_calls"] == 5 and snapshot["total_ok"] == 3
    assert snapshot["calls_per_model"] == {GPT: 4, "gpt-4o": 1}
    assert snapshot["calls_per_request_id"] == {"req-A": 3, "req-B": 1}
    assert snapshot["ok_per_request_id"] == {"req-A": 1, "req-B": 1}


async def test_admin_faults_api(sim: SimulatorServer, oai: openai.AsyncOpenAI) -> None:
    async with aiohttp.ClientSession(base_url=sim.base_url) as http:
        async with http.post("/_sim/faults", json={"model": GPT, "rate_limit": 1, "retry_after_s": 4}) as resp:
            assert resp.status == 200
            assert (await resp.json())["fault"]["rate_limit"] == 1
        with pytest.raises(openai.RateLimitError) as caught:
            await oai.chat.completions.create(model=GPT, messages=_user("x"))
        assert caught.value.response.headers["Retry-After"] == "4"
        assert (await oai.chat.completions.create(model=GPT, messages=_user("x"))).choices

        async with http.post("/_sim/faults", json={"model": "*", "error_rate": 1}) as resp:
            assert resp.status == 200
        async with http.get("/_sim/faults") as resp:
            faults = await resp.json()
        assert faults["*"]["error_rate"] == 1 and faults[GPT]["rate_limit"] == 0
        with pytest.raises(openai.InternalServerError):
            await oai.chat.completions.create(model="gpt-4o", messages=_user("x"))

        async with http.delete("/_sim/faults", params={"model": "*"}) as resp:
            assert resp.status == 200
        assert set(sim.faults.snapshot()) == {GPT}
        async with http.delete("/_sim/faults") as resp:
            assert resp.status == 200
        assert sim.faults.snapshot() == {}
        assert (await oai.chat.completions.create(model="gpt-4o", messages=_user("x"))).choices

        async with http.post("/_sim/faults", json={"model": GPT, "error_rate": 2}) as resp:
            assert resp.status == 400
            assert (await resp.json())["details"][0]["field"] == "error_rate"
        async with http.post("/_sim/faults", json={"model": GPT, "explode": True}) as resp:
            assert resp.status == 400
        async with http.post("/_sim/faults", json={"error_rate": 1}) as resp:
            assert resp.status == 400

        sim.set_fault(GPT, hang=True)
        async with http.post("/_sim/reset") as resp:
            assert resp.status == 200
        assert sim.stats.total_calls == 0 and sim.faults.snapshot() == {}
        async with http.get("/_sim/health") as resp:
            assert await resp.json() == {"ok": True}


async def test_fault_fields_merge_unless_replaced(sim: SimulatorServer) -> None:
    sim.set_fault(GPT, latency_ms=10)
    spec = sim.set_fault(GPT, fail_next=1)
    assert spec.latency_ms == 10 and spec.fail_next == 1
    assert sim.set_fault(GPT, replace=True, hang=True).latency_ms == 0


def test_urls_need_a_running_server() -> None:
    server = SimulatorServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url


async def test_urls_report_the_bound_port(sim: SimulatorServer) -> None:
    assert sim.port > 0
    assert sim.base_url == f"http://127.0.0.1:{sim.port}"
    assert sim.openai_base_url == f"{sim.base_url}/v1"
    assert sim.anthropic_base_url == sim.base_url


async def test_serve_forever_serves_until_stopped() -> None:
    stop = asyncio.Event()
    ready: list[SimulatorServer] = []
    task = asyncio.create_task(
        serve_forever("127.0.0.1", 0, SimulatorConfig(), ready=ready.append, stop=stop, handle_signals=False)
    )
    for _ in range(100):
        if ready:
            break
        await asyncio.sleep(0.02)
    assert ready, "the simulator did not start"
    client = openai.AsyncOpenAI(base_url=ready[0].openai_base_url, api_key="k", max_retries=0)
    assert (await client.chat.completions.create(model=GPT, messages=_user("up?"))).choices
    await client.close()
    stop.set()
    await asyncio.wait_for(task, timeout=5)


def test_run_entry_point_prints_urls_and_stops_on_sigterm() -> None:
    code = "from gateway.simulator import run; run('127.0.0.1', 0)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("streamgate provider simulator on http://127.0.0.1:")
        base_url = first.rsplit(" ", 1)[1].strip()
        with urllib.request.urlopen(f"{base_url}/_sim/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"ok": True}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
