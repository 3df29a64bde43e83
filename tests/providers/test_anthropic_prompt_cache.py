"""Anthropic prompt caching: a long stable system prompt is marked as a cache breakpoint; cache usage is parsed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest_asyncio
from aiohttp import web

from gateway.providers.anthropic_provider import CACHE_MIN_TOKENS, CACHE_MIN_TOKENS_HAIKU, AnthropicProvider
from gateway.providers.base import CompletionCall
from gateway.tokens import count_text

ANSWER = (  # fmt: skip
    b'{"content": [{"type": "text", "text": "ok"}], "usage": {"input_tokens": 5, "cache_creation_input_tokens": 1500,'
    b' "cache_read_input_tokens": 0, "output_tokens": 2}}'
)


class Recorder:
    """A real HTTP server that records each request body and answers with :data:`ANSWER`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(orjson.loads(await request.read()))
        return web.Response(status=200, body=ANSWER, content_type="application/json")


@pytest_asyncio.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = Recorder()
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


def long_system(tokens: int) -> str:
    text = "Follow the house style guide carefully. " * (tokens // 6 + 10)
    assert count_text(text) >= tokens
    return text


async def call(recorder: Recorder, model: str, system: str) -> Any:
    adapter = AnthropicProvider(api_key="k", base_url=recorder.url)
    try:
        return await adapter.complete(
            CompletionCall(model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=8, system=system)
        )
    finally:
        await adapter.aclose()


async def test_a_long_system_prompt_is_sent_as_a_cached_block_and_cache_usage_is_parsed(recorder: Recorder) -> None:
    system = long_system(CACHE_MIN_TOKENS)
    result = await call(recorder, "claude-sonnet-4-20250514", system)
    assert recorder.bodies[0]["system"] == [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
    assert (result.cache_write_tokens, result.cached_input_tokens) == (1500, 0)
    assert result.input_tokens == 5 + 1500  # still the total prompt tokens


async def test_a_short_system_prompt_stays_plain(recorder: Recorder) -> None:
    await call(recorder, "claude-sonnet-4-20250514", "Be brief.")
    assert recorder.bodies[0]["system"] == "Be brief."


async def test_haiku_needs_the_higher_minimum(recorder: Recorder) -> None:
    between = long_system(CACHE_MIN_TOKENS)
    assert count_text(between) < CACHE_MIN_TOKENS_HAIKU
    await call(recorder, "claude-3-5-haiku-latest", between)
    await call(recorder, "claude-3-5-haiku-latest", long_system(CACHE_MIN_TOKENS_HAIKU))
    assert isinstance(recorder.bodies[0]["system"], str) and isinstance(recorder.bodies[1]["system"], list)
