"""Cost to the list price for every token kind, both providers, streamed and not.

The rates below are typed by hand from the providers' published pricing pages (USD per million tokens), not read
from genai-prices: the test fails if the price source, the usage parsing or the arithmetic is wrong.
Each answer goes simulator -> wire usage -> :class:`Completion` -> job -> settlement -> charge -> usage event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import aiohttp
import orjson
import pytest
import pytest_asyncio

from agents.account import build_outputs, charge_of
from agents.complete import CompletionOutcome, apply_outcome
from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import Completion, CompletionCall
from gateway.providers.openai_provider import OpenAIProvider
from gateway.providers.usage import ReportedUsage, anthropic_stream_usage, openai_stream_usage
from gateway.resilience.chain import ChainLink
from gateway.settings import load_settings
from gateway.simulator.server import SimulatorServer
from tests.support.factories import make_job, make_request

SETTINGS = load_settings()


class Published(NamedTuple):
    """Per-MTok list prices: input, cached input (cache read), cache write (5 min), output."""

    input: float
    cached_input: float
    cache_write: float
    output: float


# openai.com/api/pricing: cached input is the discounted "Cached input" column; OpenAI has no cache-write charge.
# anthropic.com/pricing: cache read = 0.1 x input, 5-minute cache write = 1.25 x input.
PUBLISHED = {
    "gpt-4o-mini": Published(0.15, 0.075, 0.15, 0.60),
    "gpt-4o": Published(2.50, 1.25, 2.50, 10.00),
    "o4-mini": Published(1.10, 0.275, 1.10, 4.40),
    "claude-3-5-haiku": Published(0.80, 0.08, 1.00, 4.00),
    "claude-sonnet-4": Published(3.00, 0.30, 3.75, 15.00),
}
PROVIDER = {"gpt-4o-mini": "openai", "gpt-4o": "openai", "o4-mini": "openai"}

# A long prompt so cached/cache-write directives have tokens to apply to.
PROMPT = "Summarise the history of the printing press in Europe, its spread and its effects. " * 20

CASES = [
    ("gpt-4o-mini", "#sim:cached=256"),
    ("gpt-4o", "#sim:cached=128 #sim:reasoning=0"),
    ("o4-mini", "#sim:reasoning=700"),
    ("o4-mini", "#sim:cached=256 #sim:reasoning=333"),
    ("claude-3-5-haiku", "#sim:cached=300"),
    ("claude-3-5-haiku", "#sim:cache_write=250"),
    ("claude-sonnet-4", "#sim:cached=128 #sim:cache_write=64"),
    ("claude-sonnet-4", "#sim:cache_write=300 #sim:reasoning=90"),
    ("claude-sonnet-4", ""),
]


def expected_usd(model: str, usage: ReportedUsage) -> float:
    """The bill by hand: uncached input, cached input, cache writes and output (reasoning is inside output)."""
    rate = PUBLISHED[model]
    cached, written = usage.cached_input_tokens or 0, usage.cache_write_tokens or 0
    assert usage.input_tokens is not None and usage.output_tokens is not None
    uncached = usage.input_tokens - cached - written
    return (
        uncached * rate.input
        + cached * rate.cached_input
        + written * rate.cache_write
        + usage.output_tokens * rate.output
    ) / 1_000_000


@pytest_asyncio.fixture(scope="module")
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(host="127.0.0.1", port=0) as server:
        yield server


def _provider(model: str) -> str:
    return PROVIDER.get(model, "anthropic")


def _call(model: str, text: str) -> CompletionCall:
    spec = SETTINGS.models[model]
    return CompletionCall(model=spec.upstream, messages=[{"role": "user", "content": text}], max_tokens=64)


async def _plain(sim: SimulatorServer, model: str, text: str) -> Completion:
    """Through the real adapter (non-streamed)."""
    if _provider(model) == "openai":
        adapter: OpenAIProvider | AnthropicProvider = OpenAIProvider(api_key="sk-test", base_url=sim.openai_base_url)
    else:
        adapter = AnthropicProvider(api_key="sk-ant-test", base_url=sim.anthropic_base_url)
    try:
        return await adapter.complete(_call(model, text))
    finally:
        await adapter.aclose()


async def _streamed(sim: SimulatorServer, model: str, text: str) -> Completion:
    """The provider's SSE stream on the wire, its usage read by the stream readers."""
    call = _call(model, text)
    body: dict[str, Any] = {"model": call.model, "messages": call.messages, "max_tokens": 64, "stream": True}
    if _provider(model) == "openai":
        url, headers = f"{sim.openai_base_url}/chat/completions", {"Authorization": "Bearer sk-test"}
        body["stream_options"] = {"include_usage": True}
    else:
        url, headers = f"{sim.anthropic_base_url}/v1/messages", {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as response:
        raw = await response.text()
    events = [orjson.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: {")]
    reader = openai_stream_usage if _provider(model) == "openai" else anthropic_stream_usage
    usage = reader(events)
    return Completion(
        provider=_provider(model),
        model=call.model,
        text="streamed",
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize(("model", "directives"), CASES)
async def test_cost_is_the_list_price_of_exactly_the_reported_tokens(
    sim: SimulatorServer, model: str, directives: str, streamed: bool
) -> None:
    text = f"{PROMPT} {directives}"
    completion = await (_streamed if streamed else _plain)(sim, model, text)
    link = ChainLink(model=model, provider=_provider(model), upstream=completion.model)
    job = apply_outcome(make_job(make_request(text, model=model)), CompletionOutcome(completion, link, ()))
    settlement = job.to_settlement()
    result, usage = build_outputs(settlement, charge_of(settlement, SETTINGS), now_ms=2_000)

    reported = ReportedUsage(
        usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens, usage.output_tokens
    )
    assert usage.cost_usd == pytest.approx(expected_usd(model, reported), abs=1e-9)
    assert usage.cost_usd == result.cost_usd and usage.price_known and usage.price_source == "genai-prices@0.2.3"
    asked = dict(part.removeprefix("#sim:").split("=") for part in directives.split())
    assert usage.cached_input_tokens == int(asked.get("cached", 0))
    if _provider(model) == "anthropic":
        assert usage.cache_write_tokens == int(asked.get("cache_write", 0))
        assert usage.reasoning_tokens == 0  # Anthropic bills thinking inside output_tokens
    else:
        assert usage.cache_write_tokens == 0 and usage.reasoning_tokens == int(asked.get("reasoning", 0))
    assert usage.output_tokens >= int(asked.get("reasoning", 0)) + 1
    assert result.usage.model_dump() == {
        k: getattr(usage, k)
        for k in ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
    }


async def test_streamed_and_plain_answers_cost_the_same(sim: SimulatorServer) -> None:
    text = f"{PROMPT} #sim:cached=200 #sim:cache_write=100"
    plain, streamed = await _plain(sim, "claude-sonnet-4", text), await _streamed(sim, "claude-sonnet-4", text)
    fields = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
    assert [getattr(plain, f) for f in fields] == [getattr(streamed, f) for f in fields]


@pytest.mark.parametrize(
    ("model", "counts", "usd"),
    [
        # 1,000 prompt tokens of which 400 cached, 300 output of which 200 reasoning:
        # 600 x 0.15 + 400 x 0.075 + 300 x 0.60 = 90 + 30 + 180 = 300 micro-USD.
        ("gpt-4o-mini", {"input_tokens": 1000, "cached_input_tokens": 400, "output_tokens": 300,
                         "reasoning_tokens": 200}, 0.000300),
        # o4-mini, 10,000 prompt with 8,000 cached, 5,000 output (4,000 reasoning):
        # 2,000 x 1.10 + 8,000 x 0.275 + 5,000 x 4.40 = 2,200 + 2,200 + 22,000 = 26,400 micro-USD.
        ("o4-mini", {"input_tokens": 10_000, "cached_input_tokens": 8_000, "output_tokens": 5_000,
                     "reasoning_tokens": 4_000}, 0.026400),
        # Claude Sonnet 4, 5,000 prompt = 1,000 plain + 3,000 cache read + 1,000 cache write, 800 output:
        # 1,000 x 3 + 3,000 x 0.30 + 1,000 x 3.75 + 800 x 15 = 3,000 + 900 + 3,750 + 12,000 = 19,650 micro-USD.
        ("claude-sonnet-4", {"input_tokens": 5000, "cached_input_tokens": 3000, "cache_write_tokens": 1000,
                             "output_tokens": 800}, 0.019650),
        # Claude 3.5 Haiku, 2,000 prompt all written to the cache, 100 output: 2,000 x 1.00 + 100 x 4 = 2,400.
        ("claude-3-5-haiku", {"input_tokens": 2000, "cache_write_tokens": 2000, "output_tokens": 100}, 0.002400),
    ],
    ids=["gpt-4o-mini", "o4-mini", "sonnet-4", "haiku-3.5"],
)  # fmt: skip
def test_hand_computed_bills(model: str, counts: dict[str, int], usd: float) -> None:
    from tests.support.factories import make_settlement

    settlement = make_settlement(model=model, provider=_provider(model), **counts)
    assert charge_of(settlement, SETTINGS).usd == pytest.approx(usd, abs=1e-12)
