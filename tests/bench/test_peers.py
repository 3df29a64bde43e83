"""The peer run's HTTP load generator against the real simulator's OpenAI route (what LiteLLM is sent to)."""

from __future__ import annotations

from bench.payloads import misses, run_tag
from bench.peers import offer_http
from gateway.simulator.server import SimulatorServer


async def test_offer_http_answers_every_request_and_times_it_from_its_due_time() -> None:
    async with SimulatorServer(host="127.0.0.1", port=0) as sim:
        base = sim.openai_base_url.removesuffix("/v1")  # offer_http posts to {url}/v1/chat/completions
        payloads = misses(run_tag(), "peer", 20)
        run = await offer_http(base, payloads, rate=200.0, timeout_s=20)
    assert run.sent == 20 and run.answered == 20
    assert all(ms > 0 for ms in run.e2e_ms)
    assert sim.stats.calls_for_model("gpt-4o-mini") == 20
