"""Both adapters streaming from the real simulator (SSE through the official SDKs): text, usage, failures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from gateway.errors import ProviderBadResponse, ProviderError
from gateway.providers.base import CompletionCall, Provider
from gateway.simulator.server import SimulatorServer

MakeCall = Callable[..., CompletionCall]


@dataclass
class Recorder:
    """A delta sink that keeps what it was fed, attempt by attempt."""

    attempts: list[list[str]] = field(default_factory=list)

    async def started(self) -> None:
        self.attempts.append([])

    async def delta(self, text: str) -> None:
        self.attempts[-1].append(text)


async def test_a_streamed_answer_is_fed_in_pieces_and_equals_the_plain_one(
    provider: Provider, make_call: MakeCall
) -> None:
    plain_call = make_call("Tell me about streams. #sim:cached=3")
    plain = await provider.complete(plain_call)
    sink = Recorder()
    streamed = await provider.complete(replace(plain_call, on_delta=sink))
    assert len(sink.attempts) == 1 and len(sink.attempts[0]) > 1
    assert "".join(sink.attempts[0]) == streamed.text == plain.text
    assert (streamed.input_tokens, streamed.output_tokens, streamed.cached_input_tokens) == (
        plain.input_tokens,
        plain.output_tokens,
        plain.cached_input_tokens,
    )
    assert streamed.finish_reason == plain.finish_reason


async def test_a_stream_cut_halfway_is_a_retryable_provider_error(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer, model: str
) -> None:
    sim.set_fault(model, cut_stream_next=1)
    sink = Recorder()
    with pytest.raises(ProviderError) as info:
        await provider.complete(make_call("A long enough answer, please.", on_delta=sink))
    assert info.value.retryable
    assert len(sink.attempts) == 1 and sink.attempts[0]  # some text arrived before the cut
    again = Recorder()
    answer = await provider.complete(make_call("A long enough answer, please.", on_delta=again))
    assert "".join(again.attempts[0]) == answer.text
    assert answer.text.startswith("".join(sink.attempts[0]))


async def test_a_malformed_stream_is_a_bad_response(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer, model: str
) -> None:
    sim.set_fault(model, malformed=True)
    with pytest.raises(ProviderError) as info:
        await provider.complete(make_call(on_delta=Recorder()))
    assert isinstance(info.value, ProviderBadResponse), info.value


async def test_a_streamed_schema_answer_from_anthropic_is_the_tool_input(
    providers: dict[str, Provider], sim: SimulatorServer
) -> None:
    sim.reset()
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    call = CompletionCall(
        model="claude-3-5-haiku-latest",
        messages=[{"role": "user", "content": "count"}],
        max_tokens=64,
        json_schema=schema,
        idempotency_key="schema-stream-1",
    )
    plain = await providers["anthropic"].complete(call)
    sink = Recorder()
    streamed = await providers["anthropic"].complete(replace(call, on_delta=sink))
    assert streamed.text == plain.text
    assert sink.attempts == [[]]  # tool input is not answer text: nothing fed
