"""The Anthropic wire format, driven with the real ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import aiohttp
import anthropic
import jsonschema
import pytest

from gateway.simulator import SimulatorServer
from gateway.tokens import count_chat, count_text

MODEL = "claude-3-5-haiku-latest"

REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 5},
        "score": {"type": "integer", "minimum": 0, "maximum": 10},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
        "severity": {"$ref": "#/definitions/severity"},
        "reviewed": {"type": "boolean"},
    },
    "required": ["title", "score", "tags", "severity", "reviewed"],
    "additionalProperties": False,
    "definitions": {"severity": {"type": "string", "enum": ["low", "high"]}},
}
TOOLS: Any = [
    {"name": "lookup", "description": "unused", "input_schema": {"type": "object", "properties": {}}},
    {"name": "report", "description": "structured output", "input_schema": REPORT_SCHEMA},
]


def _user(text: str) -> Any:
    return [{"role": "user", "content": text}]


async def test_plain_message_has_anthropic_shape_and_usage(claude: anthropic.AsyncAnthropic) -> None:
    msg = await claude.messages.create(model=MODEL, max_tokens=200, system="Be brief.", messages=_user("Hello"))
    assert msg.type == "message" and msg.role == "assistant" and msg.model == MODEL
    assert msg.id.startswith("msg_")
    assert msg.stop_reason == "end_turn"
    assert len(msg.content) == 1
    block = msg.content[0]
    assert isinstance(block, anthropic.types.TextBlock)
    assert block.text.endswith(".")
    assert msg.usage.input_tokens == count_chat([{"content": "Hello"}], "Be brief.")
    assert msg.usage.output_tokens == count_text(block.text)


async def test_deterministic_per_prompt_and_system(claude: anthropic.AsyncAnthropic) -> None:
    async def text(system: str, prompt: str) -> str:
        msg = await claude.messages.create(model=MODEL, max_tokens=200, system=system, messages=_user(prompt))
        block = msg.content[0]
        assert isinstance(block, anthropic.types.TextBlock)
        return block.text

    base = await text("s1", "Why?")
    assert base == await text("s1", "Why?")
    assert base != await text("s2", "Why?")
    assert base != await text("s1", "Why not?")


async def test_max_tokens_truncates_with_stop_reason(claude: anthropic.AsyncAnthropic) -> None:
    msg = await claude.messages.create(model=MODEL, max_tokens=2, messages=_user("Long story please"))
    assert msg.stop_reason == "max_tokens"
    assert msg.usage.output_tokens <= 2


async def test_stream_event_sequence_and_text(claude: anthropic.AsyncAnthropic) -> None:
    plain = await claude.messages.create(model=MODEL, max_tokens=200, messages=_user("Stream it"))
    stream = await claude.messages.create(model=MODEL, max_tokens=200, messages=_user("Stream it"), stream=True)
    events = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e for e in events if e.type == "content_block_delta"]
    assert len(deltas) > 1 and all(d.delta.type == "text_delta" for d in deltas)
    text = "".join(d.delta.text for d in deltas if d.delta.type == "text_delta")
    first = plain.content[0]
    assert isinstance(first, anthropic.types.TextBlock) and text == first.text
    start, final = events[0], events[-2]
    assert start.type == "message_start" and start.message.usage.input_tokens == plain.usage.input_tokens
    assert final.type == "message_delta" and final.usage.output_tokens == plain.usage.output_tokens
    assert final.delta.stop_reason == "end_turn"


async def test_stream_helper_accumulates_the_message(claude: anthropic.AsyncAnthropic) -> None:
    async with claude.messages.stream(model=MODEL, max_tokens=200, messages=_user("helper")) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert text and final.content[0].type == "text" and final.content[0].text == text
    assert final.usage.output_tokens == count_text(text)


async def test_forced_tool_returns_schema_valid_tool_use(claude: anthropic.AsyncAnthropic) -> None:
    msg = await claude.messages.create(
        model=MODEL,
        max_tokens=500,
        messages=_user("Report on the incident."),
        tools=TOOLS,
        tool_choice={"type": "tool", "name": "report"},
    )
    assert msg.stop_reason == "tool_use"
    assert len(msg.content) == 1
    block = msg.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert block.name == "report" and block.id.startswith("toolu_")
    jsonschema.validate(block.input, REPORT_SCHEMA)
    assert msg.usage.input_tokens > count_chat([{"content": "Report on the incident."}])


async def test_forced_tool_stream_sends_input_json_deltas(claude: anthropic.AsyncAnthropic) -> None:
    kwargs: Any = {
        "model": MODEL,
        "max_tokens": 500,
        "messages": _user("Report again."),
        "tools": TOOLS,
        "tool_choice": {"type": "tool", "name": "report"},
    }
    plain = await claude.messages.create(**kwargs)
    async with claude.messages.stream(**kwargs) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_message()
    assert any(e.type == "content_block_delta" and e.delta.type == "input_json_delta" for e in events)
    block, plain_block = final.content[0], plain.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock) and isinstance(plain_block, anthropic.types.ToolUseBlock)
    assert block.input == plain_block.input
    jsonschema.validate(block.input, REPORT_SCHEMA)
    assert final.stop_reason == "tool_use"


async def test_auto_tool_choice_answers_text(claude: anthropic.AsyncAnthropic) -> None:
    msg = await claude.messages.create(
        model=MODEL, max_tokens=100, messages=_user("hi"), tools=TOOLS, tool_choice={"type": "auto"}
    )
    assert msg.content[0].type == "text" and msg.stop_reason == "end_turn"


async def test_missing_max_tokens_or_unknown_tool_is_bad_request(sim: SimulatorServer) -> None:
    client = anthropic.AsyncAnthropic(base_url=sim.anthropic_base_url, api_key="test", max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=_user("x"),
            tools=TOOLS,
            tool_choice={"type": "tool", "name": "nope"},
        )
    assert caught.value.type == "invalid_request_error"
    await client.close()
    async with aiohttp.ClientSession() as http:
        body = {"model": MODEL, "messages": _user("x")}
        async with http.post(f"{sim.base_url}/v1/messages", json=body, headers={"x-api-key": "k"}) as resp:
            assert resp.status == 400
            payload = await resp.json()
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"


async def test_missing_api_key_is_401_in_anthropic_shape(sim: SimulatorServer) -> None:
    body = {"model": MODEL, "max_tokens": 10, "messages": _user("hi")}
    async with aiohttp.ClientSession() as http, http.post(f"{sim.base_url}/v1/messages", json=body) as resp:
        assert resp.status == 401
        payload = await resp.json()
    assert payload == {
        "type": "error",
        "error": {"type": "authentication_error", "message": payload["error"]["message"]},
    }
