"""``#sim:`` prompt directives: per-request behaviour without global state."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import anthropic
import jsonschema
import openai
import pytest

from gateway.simulator import SimulatorServer, parse_directives
from gateway.simulator.directives import Directives, directives_for

GPT = "gpt-4o-mini"
CLAUDE = "claude-3-5-haiku-latest"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


def _user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def test_parse_directives() -> None:
    assert parse_directives("plain prompt") == Directives()
    parsed = parse_directives("go #sim:sleep_ms=250 #sim:status=503 #sim:no_usage #sim:bad_json #sim:hang")
    assert parsed == Directives(sleep_ms=250, status=503, no_usage=True, bad_json=True, hang=True)
    assert parse_directives("#sim:retry_after=2") == Directives(status=429, retry_after_s=2)
    assert parse_directives("#sim:status=500 #sim:retry_after=2").status == 500
    assert parse_directives("#sim:sleep_ms=abc #sim:unknown=1 #sim:malformed") == Directives(malformed=True)


def test_only_the_last_user_message_counts() -> None:
    messages = [
        {"role": "user", "content": "#sim:status=500"},
        {"role": "assistant", "content": "#sim:hang"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "#sim:no_usage"}],
        },
    ]
    assert directives_for(messages) == Directives(no_usage=True)
    assert directives_for(messages[:2]) == Directives(status=500)


async def test_sleep_ms_slows_only_the_call_that_asks(oai: openai.AsyncOpenAI) -> None:
    async def timed(text: str) -> float:
        started = time.monotonic()
        await oai.chat.completions.create(model=GPT, messages=_user(text))
        return time.monotonic() - started

    slow, *fast = await asyncio.gather(timed("slow one #sim:sleep_ms=400"), *(timed(f"fast {i}") for i in range(5)))
    assert slow >= 0.4
    assert max(fast) < 0.3


async def test_status_directives_raise_typed_errors(oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(openai.InternalServerError):
        await oai.chat.completions.create(model=GPT, messages=_user("boom #sim:status=500"))
    with pytest.raises(openai.RateLimitError) as limited:
        await oai.chat.completions.create(model=GPT, messages=_user("slow down #sim:status=429 #sim:retry_after=2"))
    assert limited.value.response.headers["Retry-After"] == "2"
    with pytest.raises(openai.RateLimitError) as default_limited:
        await oai.chat.completions.create(model=GPT, messages=_user("#sim:status=429"))
    assert default_limited.value.response.headers["Retry-After"] == "1"
    with pytest.raises(anthropic.RateLimitError) as claude_limited:
        await claude.messages.create(model=CLAUDE, max_tokens=9, messages=_user("#sim:retry_after=2"))
    assert claude_limited.value.response.headers["retry-after"] == "2"
    with pytest.raises(anthropic.InternalServerError):
        await claude.messages.create(model=CLAUDE, max_tokens=9, messages=_user("#sim:status=503"))
    with pytest.raises(anthropic.AuthenticationError):
        await claude.messages.create(model=CLAUDE, max_tokens=9, messages=_user("#sim:status=401"))


async def test_hang_directive_times_out(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.APITimeoutError):
        await oai.chat.completions.create(model=GPT, messages=_user("#sim:hang"), timeout=0.2)
    assert (await oai.chat.completions.create(model=GPT, messages=_user("fine"))).choices


async def test_bad_json_breaks_structured_output(oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic) -> None:
    fmt: Any = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA}}
    good = await oai.chat.completions.create(model=GPT, messages=_user("a city"), response_format=fmt)
    jsonschema.validate(json.loads(good.choices[0].message.content or ""), SCHEMA)
    bad = await oai.chat.completions.create(model=GPT, messages=_user("a city #sim:bad_json"), response_format=fmt)
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.choices[0].message.content or "")
    plain = await oai.chat.completions.create(model=GPT, messages=_user("prose #sim:bad_json"))
    assert plain.choices[0].message.content  # no JSON expected: no effect

    tools: Any = [{"name": "city", "input_schema": SCHEMA}]
    msg = await claude.messages.create(
        model=CLAUDE,
        max_tokens=100,
        messages=_user("a city #sim:bad_json"),
        tools=tools,
        tool_choice={"type": "tool", "name": "city"},
    )
    block = msg.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(block.input, SCHEMA)


async def test_no_usage_omits_usage(oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic) -> None:
    reply = await oai.chat.completions.create(model=GPT, messages=_user("#sim:no_usage"))
    assert reply.usage is None
    stream = await oai.chat.completions.create(
        model=GPT, messages=_user("#sim:no_usage"), stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert chunks and all(chunk.usage is None for chunk in chunks)
    msg = await claude.messages.create(model=CLAUDE, max_tokens=50, messages=_user("#sim:no_usage"))
    assert "usage" not in msg.model_dump(exclude_unset=True)


async def test_malformed_directive(sim: SimulatorServer, oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(json.JSONDecodeError):
        await oai.chat.completions.create(model=GPT, messages=_user("#sim:malformed"))
    assert sim.stats.total_calls == 1 and sim.stats.total_ok == 0
