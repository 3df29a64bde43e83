"""Fixtures of the provider-adapter tests: one real simulator HTTP server and both adapters pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import CompletionCall, Provider
from gateway.providers.openai_provider import OpenAIProvider
from gateway.simulator.server import SimulatorServer

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest"}


@pytest_asyncio.fixture(scope="module")
async def sim() -> AsyncIterator[SimulatorServer]:
    """A real simulator on a free port, shared by a test module."""
    async with SimulatorServer(host="127.0.0.1", port=0) as server:
        yield server


@pytest_asyncio.fixture(scope="module")
async def providers(sim: SimulatorServer) -> AsyncIterator[dict[str, Provider]]:
    """Both adapters against the simulator, with real (test) keys."""
    built: dict[str, Provider] = {
        "openai": OpenAIProvider(api_key="sk-test", base_url=sim.openai_base_url, max_connections=64),
        "anthropic": AnthropicProvider(api_key="sk-ant-test", base_url=sim.anthropic_base_url, max_connections=64),
    }
    yield built
    for provider in built.values():
        await provider.aclose()


@pytest.fixture(params=["openai", "anthropic"])
def flavor(request: pytest.FixtureRequest) -> str:
    """The provider under test."""
    name: str = request.param
    return name


@pytest.fixture
def model(flavor: str) -> str:
    """The simulator model name of the flavor under test."""
    return MODELS[flavor]


@pytest.fixture
def provider(providers: dict[str, Provider], flavor: str, sim: SimulatorServer) -> Provider:
    """The adapter under test, against a simulator whose faults and counters were just cleared."""
    sim.reset()
    return providers[flavor]


@pytest.fixture
def make_call(flavor: str) -> Callable[..., CompletionCall]:
    """Build a call for the flavor's model with a fresh request id: ``make_call("prompt", **fields)``."""

    def build(prompt: str = "Say something short.", **fields: object) -> CompletionCall:
        values: dict[str, object] = {
            "model": MODELS[flavor],
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": 64,
            "timeout_s": 5.0,
            "idempotency_key": f"req-{uuid.uuid4().hex}",
        }
        values.update(fields)
        return CompletionCall(**values)  # type: ignore[arg-type]

    return build
