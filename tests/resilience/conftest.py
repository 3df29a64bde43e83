"""Fakes for the resilience tests: a manual clock, recorded sleeps and script-driven providers.

Nothing here really sleeps: the fake providers and the recorded sleep advance the fake clock instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.errors import ProviderTimeout
from gateway.providers.base import Completion, CompletionCall, Provider
from gateway.resilience import (
    BreakerRegistry,
    ChainLink,
    RateTrackerRegistry,
    ResilienceSettings,
    ResilientResult,
    complete_resilient,
)


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in that records each delay and advances the fake clock by it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


HANG = object()
"""Script step: the provider uses up the whole attempt timeout, then raises ProviderTimeout like an SDK."""


@dataclass
class ScriptedProvider:
    """A :class:`Provider` that plays a script, one step per call; the last step repeats.

    A step is answer text (``str``), an exception instance to raise, or :data:`HANG`. Each call first
    advances the fake clock by ``latency_s``.
    """

    name: str
    script: Sequence[object]
    clock: FakeClock
    latency_s: float = 0.05
    calls: list[CompletionCall] = field(default_factory=list)

    async def complete(self, call: CompletionCall) -> Completion:
        step = self.script[min(len(self.calls), len(self.script) - 1)]
        self.calls.append(call)
        if step is HANG:
            self.clock.advance(call.timeout_s)
            raise ProviderTimeout("timed out", provider=self.name, model=call.model)
        self.clock.advance(self.latency_s)
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, str)
        return Completion(self.name, call.model, step, input_tokens=10, output_tokens=5, finish_reason="stop")

    async def aclose(self) -> None:
        return None


@dataclass
class Harness:
    """Everything :func:`complete_resilient` needs, wired to one fake clock."""

    clock: FakeClock
    sleep: RecordingSleep
    settings: ResilienceSettings
    breakers: BreakerRegistry
    rates: RateTrackerRegistry
    rng: random.Random

    HANG = HANG

    def provider(self, name: str, *script: object, latency_s: float = 0.05) -> ScriptedProvider:
        """A scripted provider on this harness's clock."""
        return ScriptedProvider(name, list(script), self.clock, latency_s)

    async def run(
        self,
        chain: Sequence[ChainLink],
        providers: Mapping[str, Provider],
        *,
        budget_s: float | None = None,
        estimated_tokens: int = 100,
    ) -> ResilientResult:
        deadline = None if budget_s is None else self.clock() + budget_s
        return await complete_resilient(
            CALL,
            chain,
            providers,
            breakers=self.breakers,
            rates=self.rates,
            settings=self.settings,
            deadline_monotonic=deadline,
            estimated_tokens=estimated_tokens,
            clock=self.clock,
            sleep=self.sleep,
            rng=self.rng,
        )


CALL = CompletionCall(model="placeholder", messages=[{"role": "user", "content": "hi"}], max_tokens=16)

MakeHarness = Callable[..., Harness]


@pytest.fixture
def make_harness() -> MakeHarness:
    """Build a :class:`Harness`; keyword arguments become :class:`ResilienceSettings` fields."""

    def make(seed: int = 7, **settings: Any) -> Harness:
        clock = FakeClock()
        resilience = ResilienceSettings.model_validate(settings)
        return Harness(
            clock=clock,
            sleep=RecordingSleep(clock),
            settings=resilience,
            breakers=BreakerRegistry(resilience.breaker, clock=clock),
            rates=RateTrackerRegistry(resilience.limits, clock=clock),
            rng=random.Random(seed),
        )

    return make
