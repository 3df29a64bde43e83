"""The OpenAI wire format, driven with the real ``openai`` SDK."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import jsonschema
import openai
import pytest

from gateway.simulator import SimulatorServer
from gateway.tokens import count_chat, count_text

MODEL = "gpt-4o-mini"

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "minLength": 12},
        "status": {"enum": ["open", "shipped", "closed"]},
        "total": {"type": "number", "minimum": 10, "maximum": 20},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 3},
        "gift": {"type": "boolean"},
        "placed_on": {"type": "string", "format": "date"},
        "customer": {"$ref": "#/$defs/customer"},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}, "minItems": 3, "maxItems": 5},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["order_id", "status", "total", "quantity", "gift", "placed_on", "customer", "lines", "note"],
    "additionalProperties": False,
    "$defs": {
        "customer": {
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}, "tier": {"const": "gold"}},
            "required": ["email", "tier"],
            "additionalProperties": False,
        },
        "line": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "maxLength": 6},
                "qty": {"type": "integer", "minimum": 1},
            },
            "required": ["sku", "qty"],
            "additionalProperties": False,
        },
    },
}


def _messages(text: str) -> list[Any]:
    return [{"role": "system", "content": "You are terse."}, {"role": "user", "content": text}]


async def test_plain_completion_has_openai_shape_and_usage(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(model=MODEL, messages=_messages("Name a colour."))
    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-")
    assert reply.model == MODEL
    assert reply.created > 0
    choice = reply.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    text = choice.message.content
    assert text and text.endswith(".") and len(text.split()) >= 4
    assert reply.usage is not None
    expected_prompt = count_chat([{"content": "You are terse."}, {"content": "Name a colour."}])
    assert reply.usage.prompt_tokens == expected_prompt
    assert reply.usage.completion_tokens == count_text(text)
    assert reply.usage.total_tokens == expected_prompt + count_text(text)


async def test_same_prompt_same_text_and_different_prompt_different_text(oai: openai.AsyncOpenAI) -> None:
    first = await oai.chat.completions.create(model=MODEL, messages=_messages("What is Kafka?"))
    again = await oai.chat.completions.create(model=MODEL, messages=_messages("What is Kafka?"))
    other = await oai.chat.completions.create(model=MODEL, messages=_messages("What is Redis?"))
    other_model = await oai.chat.completions.create(model="gpt-4o", messages=_messages("What is Kafka?"))
    text = first.choices[0].message.content
    assert text == again.choices[0].message.content
    assert text != other.choices[0].message.content
    assert text != other_model.choices[0].message.content
    assert first.id != again.id


async def test_max_tokens_bounds_the_answer(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(model=MODEL, messages=_messages("Tell me more."), max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens <= 3


async def test_stream_with_usage_matches_the_plain_answer(oai: openai.AsyncOpenAI) -> None:
    plain = await oai.chat.completions.create(model=MODEL, messages=_messages("Stream this."))
    stream = await oai.chat.completions.create(
        model=MODEL, messages=_messages("Stream this."), stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and plain.usage is not None
    assert last.usage.model_dump() == plain.usage.model_dump()
    assert all(c.usage is None for c in chunks[:-1])


async def test_stream_without_include_usage_sends_no_usage(oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(model=MODEL, messages=_messages("No usage."), stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


async def test_stream_ends_with_done_on_the_wire(sim: SimulatorServer) -> None:
    body = {"model": MODEL, "messages": _messages("raw"), "stream": True}
    headers = {"Authorization": "Bearer sk-test"}
    url = f"{sim.openai_base_url}/chat/completions"
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        raw = await resp.text()
    events = [block for block in raw.split("\n\n") if block]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    for event in events[:-1]:
        json.loads(event.removeprefix("data: "))


async def test_json_schema_response_is_valid_for_the_schema(oai: openai.AsyncOpenAI) -> None:
    fmt: Any = {
        "type": "json_schema",
        "json_schema": {"name": "order", "schema": ORDER_SCHEMA, "strict": True},
    }
    reply = await oai.chat.completions.create(model=MODEL, messages=_messages("An order."), response_format=fmt)
    content = reply.choices[0].message.content
    assert content is not None
    document = json.loads(content)
    jsonschema.validate(document, ORDER_SCHEMA)
    assert 3 <= len(document["lines"]) <= 5
    again = await oai.chat.completions.create(model=MODEL, messages=_messages("An order."), response_format=fmt)
    assert again.choices[0].message.content == content
    assert reply.usage is not None and reply.usage.completion_tokens == count_text(content)


async def test_json_schema_stream_reassembles_to_valid_json(oai: openai.AsyncOpenAI) -> None:
    fmt: Any = {"type": "json_schema", "json_schema": {"name": "order", "schema": ORDER_SCHEMA}}
    stream = await oai.chat.completions.create(
        model=MODEL, messages=_messages("Stream an order."), response_format=fmt, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    jsonschema.validate(json.loads(text), ORDER_SCHEMA)


async def test_json_object_response_is_a_json_object(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(
        model=MODEL, messages=_messages("JSON please."), response_format={"type": "json_object"}
    )
    document = json.loads(reply.choices[0].message.content or "")
    assert isinstance(document, dict) and isinstance(document["answer"], str)


async def test_models_endpoint_lists_models(oai: openai.AsyncOpenAI) -> None:
    page = await oai.models.list()
    ids = [m.id for m in page.data]
    assert "gpt-4o-mini" in ids


async def test_missing_api_key_is_401_in_openai_shape(sim: SimulatorServer) -> None:
    body = {"model": MODEL, "messages": _messages("hi")}
    url = f"{sim.openai_base_url}/chat/completions"
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        assert resp.status == 401
        error = (await resp.json())["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert error["message"]


async def test_bad_request_raises_bad_request_error(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(model=MODEL, messages=[])
    assert caught.value.status_code == 400
    yaml_format: Any = {"type": "yaml"}
    with pytest.raises(openai.BadRequestError):
        await oai.chat.completions.create(model=MODEL, messages=_messages("x"), response_format=yaml_format)
