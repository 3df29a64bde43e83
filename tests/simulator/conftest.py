"""Fixtures of the simulator tests: one simulator per session, reset before every test, and SDK clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import openai
import pytest

from gateway.simulator import SimulatorConfig, SimulatorServer


@pytest.fixture(scope="session")
async def sim() -> AsyncIterator[SimulatorServer]:
    """A simulator on a free loopback port, shared by the session."""
    async with SimulatorServer(host="127.0.0.1", port=0, config=SimulatorConfig(seed=7)) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_sim(request: pytest.FixtureRequest) -> None:
    """Every test that uses the simulator starts with no faults and no stats."""
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()


@pytest.fixture
async def oai(sim: SimulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """The real OpenAI SDK pointed at the simulator, with its retries off."""
    client = openai.AsyncOpenAI(base_url=sim.openai_base_url, api_key="sk-test", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def claude(sim: SimulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    """The real Anthropic SDK pointed at the simulator, with its retries off."""
    client = anthropic.AsyncAnthropic(base_url=sim.anthropic_base_url, api_key="test", max_retries=0)
    yield client
    await client.close()
