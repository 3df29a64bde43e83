"""Both adapters against the real simulator over HTTP: answers, structured output, usage, every error path."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable

import jsonschema
import pytest

from gateway.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderBadResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import Completion, CompletionCall, Provider
from gateway.providers.openai_provider import OpenAIProvider
from gateway.simulator.server import SimulatorServer

MakeCall = Callable[..., CompletionCall]

PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": False,
}


async def _fails(provider: Provider, call: CompletionCall) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await provider.complete(call)
    err = info.value
    assert err.provider == provider.name
    assert err.model == call.model
    return err


async def test_plain_completion_returns_text_and_usage(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer
) -> None:
    call = make_call("Tell me about rivers.", system="You are terse.", temperature=0.2)
    result = await provider.complete(call)
    assert isinstance(result, Completion)
    assert result.provider == provider.name
    assert result.text.strip()
    assert isinstance(result.input_tokens, int) and result.input_tokens > 0
    assert isinstance(result.output_tokens, int) and result.output_tokens > 0
    assert result.finish_reason in {"stop", "end_turn", "length", "max_tokens"}
    assert call.idempotency_key is not None
    assert sim.stats.calls_for(call.idempotency_key) == 1  # the request-id header reached the server


async def test_answers_are_deterministic(provider: Provider, make_call: MakeCall) -> None:
    first = await provider.complete(make_call("Same prompt twice."))
    second = await provider.complete(make_call("Same prompt twice."))
    assert first.text == second.text


async def test_system_prompt_and_system_message_are_the_same_request(provider: Provider, make_call: MakeCall) -> None:
    """``system=`` and a leading system-role message reach the provider identically (same seeded answer)."""
    as_field = await provider.complete(make_call("Fold me.", system="Answer like a pirate."))
    as_message = await provider.complete(
        make_call(
            messages=[
                {"role": "system", "content": "Answer like a pirate."},
                {"role": "user", "content": "Fold me."},
            ]
        )
    )
    without = await provider.complete(make_call("Fold me."))
    assert as_field.text == as_message.text
    assert as_field.text != without.text


async def test_json_schema_output_parses_and_validates(provider: Provider, make_call: MakeCall) -> None:
    result = await provider.complete(make_call("Describe a person as JSON.", json_schema=PERSON_SCHEMA))
    value = json.loads(result.text)
    jsonschema.validate(value, PERSON_SCHEMA)
    assert result.input_tokens is not None and result.output_tokens is not None


async def test_bad_json_is_returned_as_is(provider: Provider, make_call: MakeCall) -> None:
    """Schema enforcement is the gateway's job: the adapter returns what the model said, whatever it is."""
    result = await provider.complete(make_call("JSON please #sim:bad_json", json_schema=PERSON_SCHEMA))
    with pytest.raises((json.JSONDecodeError, jsonschema.ValidationError)):
        jsonschema.validate(json.loads(result.text), PERSON_SCHEMA)


async def test_no_usage_gives_none_tokens(provider: Provider, make_call: MakeCall) -> None:
    result = await provider.complete(make_call("Hello #sim:no_usage"))
    assert result.text.strip()
    assert result.input_tokens is None
    assert result.output_tokens is None


async def test_500_is_unavailable_with_exactly_one_http_call(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer
) -> None:
    call = make_call("Boom #sim:status=500")
    err = await _fails(provider, call)
    assert type(err) is ProviderUnavailable
    assert err.status == 500
    assert err.retryable and err.allow_fallback
    assert call.idempotency_key is not None
    assert sim.stats.calls_for(call.idempotency_key) == 1  # SDK retries really are off


async def test_configured_fault_is_unavailable(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer, model: str
) -> None:
    sim.set_fault(model, fail_next=1, error_status=503)
    err = await _fails(provider, make_call())
    assert type(err) is ProviderUnavailable and err.status == 503
    assert (await provider.complete(make_call())).text  # recovered after one failure


async def test_429_is_rate_limited_with_retry_after(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer
) -> None:
    call = make_call("Slow down #sim:status=429 #sim:retry_after=2")
    err = await _fails(provider, call)
    assert type(err) is ProviderRateLimited
    assert err.status == 429
    assert err.retry_after_s == 2
    assert err.retryable and err.allow_fallback
    assert call.idempotency_key is not None
    assert sim.stats.calls_for(call.idempotency_key) == 1


async def test_400_is_bad_request_without_retry_or_fallback(provider: Provider, make_call: MakeCall) -> None:
    err = await _fails(provider, make_call("Nonsense #sim:status=400"))
    assert type(err) is ProviderBadRequest
    assert err.status == 400
    assert not err.retryable
    assert not err.allow_fallback


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (404, ProviderBadRequest),
        (408, ProviderUnavailable),
        (409, ProviderUnavailable),
        (413, ProviderBadRequest),
        (422, ProviderBadRequest),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
async def test_status_mapping(
    provider: Provider, make_call: MakeCall, status: int, expected: type[ProviderError]
) -> None:
    err = await _fails(provider, make_call(f"#sim:status={status}"))
    assert type(err) is expected
    assert err.status == status
    if status in (408, 409):
        assert err.retryable and err.allow_fallback
    if expected is ProviderAuthError:
        assert not err.retryable and err.allow_fallback


async def test_hang_times_out_quickly(provider: Provider, make_call: MakeCall) -> None:
    started = time.monotonic()
    err = await _fails(provider, make_call("Wait forever #sim:hang", timeout_s=0.3))
    elapsed = time.monotonic() - started
    assert type(err) is ProviderTimeout
    assert err.status is None
    assert err.retryable and err.allow_fallback
    assert 0.25 <= elapsed < 1.0


async def test_slow_answer_within_timeout_succeeds(provider: Provider, make_call: MakeCall) -> None:
    result = await provider.complete(make_call("Take your time #sim:sleep_ms=150", timeout_s=2.0))
    assert result.text


async def test_malformed_body_is_bad_response(provider: Provider, make_call: MakeCall) -> None:
    err = await _fails(provider, make_call("Garble #sim:malformed"))
    assert type(err) is ProviderBadResponse
    assert err.retryable and err.allow_fallback


async def test_malformed_fault_is_bad_response(
    provider: Provider, make_call: MakeCall, sim: SimulatorServer, model: str
) -> None:
    sim.set_fault(model, malformed=True)
    err = await _fails(provider, make_call())
    assert type(err) is ProviderBadResponse


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize("cls", [OpenAIProvider, AnthropicProvider])
async def test_connection_refused_is_connection_error(
    cls: type[OpenAIProvider] | type[AnthropicProvider],
) -> None:
    adapter = cls(api_key="k", base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_connections=4)
    call = CompletionCall(model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=8, timeout_s=2)
    try:
        started = time.monotonic()
        err = await _fails(adapter, call)
        assert type(err) is ProviderConnectionError
        assert err.status is None
        assert err.retryable and err.allow_fallback
        assert time.monotonic() - started < 1.0  # one attempt, no SDK retry back-off
    finally:
        await adapter.aclose()


async def test_many_concurrent_calls_share_a_bounded_pool(sim: SimulatorServer, flavor: str, model: str) -> None:
    """200 concurrent calls through a pool of 20 connections all succeed; the server never sees over 20."""
    sim.reset()
    adapter: Provider
    if flavor == "openai":
        adapter = OpenAIProvider(api_key="k", base_url=sim.openai_base_url, max_connections=20)
    else:
        adapter = AnthropicProvider(api_key="k", base_url=sim.anthropic_base_url, max_connections=20)
    calls = [
        CompletionCall(
            model=model,
            messages=[{"role": "user", "content": f"Call {i} #sim:sleep_ms=20"}],
            max_tokens=16,
            idempotency_key=f"conc-{flavor}-{i}",
        )
        for i in range(200)
    ]
    try:
        results = await asyncio.gather(*(adapter.complete(c) for c in calls))
    finally:
        await adapter.aclose()
    assert all(r.text for r in results)
    assert sim.stats.total_calls == 200
    assert all(sim.stats.calls_for(f"conc-{flavor}-{i}") == 1 for i in range(200))
    assert sim.stats.peak_in_flight <= 20
