"""Odd 200 answers from a real HTTP server: every unexpected shape becomes ``ProviderBadResponse``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from gateway.errors import ProviderBadResponse
from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import CompletionCall
from gateway.providers.openai_provider import OpenAIProvider


class Canned:
    """A real HTTP server answering every POST with the body and content type set by the test."""

    def __init__(self) -> None:
        self.body = b"{}"
        self.content_type = "application/json"
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200, body=self.body, content_type=self.content_type)


@pytest_asyncio.fixture
async def canned() -> AsyncIterator[Canned]:
    server = Canned()
    app = web.Application()
    app.router.add_post("/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        await runner.cleanup()


CALL = CompletionCall(model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=8, timeout_s=2)
SCHEMA_CALL = CompletionCall(
    model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=8, json_schema={"type": "object"}
)

OPENAI_BAD = [
    (b"not json at all", "application/json"),
    (b"<html>oops</html>", "text/html"),
    (b"[]", "application/json"),
    (b'{"id": "x"}', "application/json"),
    (b'{"choices": []}', "application/json"),
    (b'{"choices": [{"index": 0}]}', "application/json"),
    (b'{"choices": [{"message": {"role": "assistant", "content": 42}}]}', "application/json"),
]
ANTHROPIC_BAD = [
    (b"not json at all", "application/json"),
    (b"<html>oops</html>", "text/html"),
    (b'{"id": "x"}', "application/json"),
    (b'{"content": "text"}', "application/json"),
    (b'{"content": []}', "application/json"),
    (b'{"content": [{"type": "text", "text": 5}]}', "application/json"),
]


async def _bad(adapter: OpenAIProvider | AnthropicProvider, call: CompletionCall) -> ProviderBadResponse:
    try:
        with pytest.raises(ProviderBadResponse) as info:
            await adapter.complete(call)
    finally:
        await adapter.aclose()
    assert info.value.retryable and info.value.allow_fallback
    return info.value


@pytest.mark.parametrize(("body", "content_type"), OPENAI_BAD)
async def test_openai_bad_shapes(canned: Canned, body: bytes, content_type: str) -> None:
    canned.body, canned.content_type = body, content_type
    await _bad(OpenAIProvider(api_key="k", base_url=canned.url + "/v1"), CALL)


@pytest.mark.parametrize(("body", "content_type"), ANTHROPIC_BAD)
async def test_anthropic_bad_shapes(canned: Canned, body: bytes, content_type: str) -> None:
    canned.body, canned.content_type = body, content_type
    await _bad(AnthropicProvider(api_key="k", base_url=canned.url), CALL)


@pytest.mark.parametrize(
    "content",
    [
        [{"type": "text", "text": "no tool"}],
        [{"type": "tool_use", "id": "t", "name": "other", "input": {}}],
        [{"type": "tool_use", "id": "t", "name": "output", "input": "not an object"}],
    ],
)
async def test_anthropic_schema_call_without_the_forced_tool(canned: Canned, content: list[Any]) -> None:
    canned.body = json.dumps({"type": "message", "role": "assistant", "content": content}).encode()
    await _bad(AnthropicProvider(api_key="k", base_url=canned.url), SCHEMA_CALL)


async def test_openai_refusal_is_returned_as_text(canned: Canned) -> None:
    canned.body = b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "No."}}]}'
    adapter = OpenAIProvider(api_key="k", base_url=canned.url + "/v1")
    try:
        result = await adapter.complete(CALL)
    finally:
        await adapter.aclose()
    assert (result.text, result.finish_reason) == ("No.", "refusal")
    assert result.input_tokens is None and result.output_tokens is None
    assert result.model == "m"  # the answer named no model: the requested one is reported


async def test_minimal_answers_are_accepted(canned: Canned) -> None:
    """Only what the adapter needs must be present; cache tokens count as input on Anthropic."""
    canned.body = (
        b'{"content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}],'
        b' "usage": {"input_tokens": 3, "cache_read_input_tokens": 10, "output_tokens": 2}}'
    )
    adapter = AnthropicProvider(api_key="k", base_url=canned.url)
    try:
        result = await adapter.complete(CALL)
    finally:
        await adapter.aclose()
    assert (result.text, result.input_tokens, result.output_tokens) == ("Hi there", 13, 2)
