"""Both batch clients against the simulator's batch APIs, through the official SDKs."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from gateway.batch.anthropic_batches import AnthropicBatches
from gateway.batch.clients import BatchClient, BatchItem
from gateway.batch.openai_batches import OpenAIBatches
from gateway.providers.base import CompletionCall
from gateway.simulator import SimulatorServer
from gateway.simulator.config import SimulatorConfig

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def _items(model: str) -> list[BatchItem]:
    def call(text: str, schema: dict[str, object] | None = None) -> CompletionCall:
        return CompletionCall(model=model, messages=[{"role": "user", "content": text}], max_tokens=64,
                              json_schema=schema)  # fmt: skip

    return [
        BatchItem("r-1", call("Say hello")),
        BatchItem("r-2", call("Give JSON", SCHEMA)),
        BatchItem("r-3", call("This one fails #sim:batch_error")),
    ]


def _client(kind: str, sim: SimulatorServer) -> tuple[BatchClient, str]:
    if kind == "openai":
        return OpenAIBatches(api_key=None, base_url=sim.openai_base_url), "gpt-4o-mini"
    return AnthropicBatches(api_key=None, base_url=sim.anthropic_base_url), "claude-3-5-haiku-latest"


async def _ended(client: BatchClient, batch_id: str) -> str:
    for _ in range(100):
        status = await client.status(batch_id)
        if status.ended:
            return status.status
        await asyncio.sleep(0.05)
    raise AssertionError("the batch never ended")


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_submit_find_poll_and_read_results(kind: str) -> None:
    async with SimulatorServer(config=SimulatorConfig(batch_delay_ms=300)) as sim:
        client, model = _client(kind, sim)
        items = _items(model)
        batch_id = await client.submit("sgb_test1", items)
        assert not (await client.status(batch_id)).ended
        # A restarted worker finds the batch instead of submitting it again.
        assert await client.find("sgb_test1", len(items), since_ms=0, taken=set()) == batch_id
        assert await client.find("sgb_test1", len(items), since_ms=0, taken={batch_id}) is None
        await _ended(client, batch_id)
        results = {r.custom_id: r for r in await client.results(batch_id, {i.custom_id: i.call for i in items})}
        assert results["r-1"].completion is not None and results["r-1"].completion.text
        assert results["r-1"].completion.input_tokens and results["r-1"].completion.output_tokens
        assert results["r-2"].completion is not None and results["r-2"].completion.text.startswith("{")
        assert results["r-3"].completion is None and results["r-3"].failure == "errored"
        assert sim.batches.submissions == {"r-1": 1, "r-2": 1, "r-3": 1}
        await client.aclose()


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_an_expired_batch_fails_every_request(kind: str) -> None:
    async with SimulatorServer(config=SimulatorConfig(batch_delay_ms=100)) as sim:
        client, model = _client(kind, sim)
        async with aiohttp.ClientSession() as http:
            await http.post(f"{sim.base_url}/_sim/batches", json={"expire_models": [model]})
        items = _items(model)[:2]
        batch_id = await client.submit("sgb_test2", items)
        await _ended(client, batch_id)
        results = await client.results(batch_id, {i.custom_id: i.call for i in items})
        assert sorted((r.custom_id, r.failure) for r in results) == [("r-1", "expired"), ("r-2", "expired")]
        await client.aclose()
