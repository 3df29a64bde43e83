"""What goes over the wire: request-id and idempotency headers, the per-call body fields, one attempt only.

A tiny real aiohttp server records each request, so the test sees exactly what the SDK sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from gateway.errors import ProviderUnavailable
from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import CompletionCall
from gateway.providers.openai_provider import OpenAIProvider


class Recorder:
    """A real HTTP server answering every POST with 503, remembering (lower-cased) headers and JSON bodies."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append((headers, json.loads(await request.read())))
        return web.json_response({"error": {"type": "overloaded", "message": "busy"}}, status=503)


@pytest_asyncio.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield rec
    finally:
        await runner.cleanup()


SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


def _call(**fields: Any) -> CompletionCall:
    base: dict[str, Any] = {
        "model": "some-model",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 77,
        "system": "be brief",
        "temperature": 0.3,
        "json_schema": SCHEMA,
        "idempotency_key": "req-abc-123",
        "extra_headers": {"X-Extra": "yes"},
    }
    base.update(fields)
    return CompletionCall(**base)


async def test_openai_wire_request(recorder: Recorder) -> None:
    adapter = OpenAIProvider(api_key="sk-wire", base_url=recorder.url + "/v1", max_connections=2)
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.complete(_call())
    finally:
        await adapter.aclose()
    assert len(recorder.requests) == 1  # no SDK retry of a 503
    headers, body = recorder.requests[0]
    assert headers["x-streamgate-request-id"] == "req-abc-123"
    assert headers["idempotency-key"] == "req-abc-123"
    assert headers["x-extra"] == "yes"
    assert headers["authorization"] == "Bearer sk-wire"
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert body["max_completion_tokens"] == 77 and "max_tokens" not in body
    assert body["temperature"] == 0.3
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA},
    }


async def test_anthropic_wire_request(recorder: Recorder) -> None:
    adapter = AnthropicProvider(api_key="sk-ant-wire", base_url=recorder.url, max_connections=2)
    call = _call(messages=[{"role": "system", "content": "and polite"}, {"role": "user", "content": "hi"}])
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.complete(call)
    finally:
        await adapter.aclose()
    assert len(recorder.requests) == 1
    headers, body = recorder.requests[0]
    assert headers["x-streamgate-request-id"] == "req-abc-123"
    assert headers["idempotency-key"] == "req-abc-123"
    # this SDK version sends the API key as a bearer token, not x-api-key
    assert headers["authorization"] == "Bearer sk-ant-wire"
    assert body["system"] == "be brief\n\nand polite"
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["max_tokens"] == 77
    assert body["temperature"] == 0.3
    assert body["tools"][0]["name"] == "output" and body["tools"][0]["input_schema"] == SCHEMA
    assert body["tool_choice"] == {"type": "tool", "name": "output"}


async def test_no_optional_fields_when_unset(recorder: Recorder) -> None:
    for adapter in (
        OpenAIProvider(api_key="k", base_url=recorder.url + "/v1"),
        AnthropicProvider(api_key="k", base_url=recorder.url),
    ):
        try:
            with pytest.raises(ProviderUnavailable):
                await adapter.complete(
                    _call(
                        system=None,
                        temperature=None,
                        json_schema=None,
                        idempotency_key=None,
                        extra_headers={},
                    )
                )
        finally:
            await adapter.aclose()
    for headers, body in recorder.requests:
        assert "x-streamgate-request-id" not in headers and "idempotency-key" not in headers
        assert not {"temperature", "response_format", "tools", "tool_choice", "system"} & set(body)
