"""Anthropic wire format: ``POST /v1/messages`` (plain and SSE streaming).

The reply is one ``text`` block, deterministic per prompt. When the request has ``tools`` and ``tool_choice``
``{"type": "tool", "name": X}`` (or ``{"type": "any"}``: the first tool), the reply is one ``tool_use`` block
whose ``input`` satisfies that tool's ``input_schema`` and ``stop_reason`` is ``"tool_use"``: this is how the
gateway gets structured output from Anthropic. Streaming sends the documented event sequence: message_start,
content_block_start, ping, content_block_delta (``text_delta`` or ``input_json_delta``), content_block_stop,
message_delta (with the usage) and message_stop.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from gateway.simulator.answers import answer_text, broken_json, prompt_seed, prompt_tokens, violating_instance
from gateway.simulator.calls import (
    JSON_TYPE,
    STATE_KEY,
    BadRequest,
    CallContext,
    new_id,
    open_sse,
    serve_call,
    write_events,
)
from gateway.simulator.calls import split_deltas as _split
from gateway.simulator.directives import last_user_text, without_directives
from gateway.simulator.schema_instance import json_instance
from gateway.tokens import count_text


def _forced_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool the request forces the model to call, if any."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if not tools or not isinstance(choice, dict):
        return None
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise BadRequest("'tools' must be an array of objects.")
    if choice.get("type") == "any":
        first: dict[str, Any] = tools[0]
        return first
    if choice.get("type") != "tool":
        return None
    for tool in tools:
        if tool.get("name") == choice.get("name"):
            found: dict[str, Any] = tool
            return found
    raise BadRequest(f"tool_choice names an unknown tool: {choice.get('name')!r}.")


def _content(body: dict[str, Any], ctx: CallContext, seed: int, max_tokens: int) -> tuple[dict[str, Any], str]:
    """The one content block of the reply and the stop reason."""
    tool = _forced_tool(body)
    if tool is not None:
        schema = tool.get("input_schema", {"type": "object"})
        value = violating_instance(schema, seed) if ctx.directives.bad_json else json_instance(schema, seed)
        if value is None and ctx.directives.bad_json:
            return {"type": "text", "text": broken_json(seed)}, "end_turn"
        if not isinstance(value, dict):
            raise BadRequest("A tool's 'input_schema' must describe an object.")
        return {
            "type": "tool_use",
            "id": new_id("toolu_"),
            "name": tool.get("name"),
            "input": value,
        }, "tool_use"
    if ctx.directives.echo:
        return {"type": "text", "text": without_directives(last_user_text(body.get("messages")))}, "end_turn"
    answer = answer_text(seed, max_tokens)
    return {"type": "text", "text": answer.text}, "max_tokens" if answer.truncated else "end_turn"


def _usage(prompt: int, visible: int, ctx: CallContext) -> dict[str, int]:
    """Anthropic's usage object: ``input_tokens`` excludes the cache reads and writes, reported beside it."""
    reads = min(prompt, ctx.directives.cached_tokens)
    writes = min(prompt - reads, ctx.directives.cache_write_tokens)
    return {
        "input_tokens": prompt - reads - writes,
        "cache_creation_input_tokens": writes,
        "cache_read_input_tokens": reads,
        "output_tokens": visible + ctx.directives.reasoning_tokens,
    }


def _block_text(block: dict[str, Any]) -> str:
    return str(block["text"]) if block["type"] == "text" else orjson.dumps(block["input"]).decode()


def message_body(ctx: CallContext) -> dict[str, Any]:
    """The ``message`` answer to ``ctx`` (also a succeeded message-batch result)."""
    body = ctx.body
    messages, max_tokens, system = body.get("messages"), body.get("max_tokens"), body.get("system")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: field required and must be a non-empty array.")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadRequest("max_tokens: field required and must be a positive integer.")
    seed = prompt_seed(ctx.model, messages, system)
    block, stop_reason = _content(body, ctx, seed, max_tokens)
    message: dict[str, Any] = {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": [block],
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }
    if not ctx.directives.no_usage:
        tools = body.get("tools")
        tool_tokens = count_text(orjson.dumps(tools).decode()) if tools else 0
        message["usage"] = _usage(prompt_tokens(messages, system) + tool_tokens, count_text(_block_text(block)), ctx)
    return message


async def _answer(request: web.Request, ctx: CallContext) -> web.StreamResponse:
    message = message_body(ctx)
    if ctx.body.get("stream"):
        return await _stream(request, ctx, message, message.get("usage"))
    return web.Response(body=orjson.dumps(message), content_type=JSON_TYPE)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) + b"\n\n"


async def _stream(
    request: web.Request, ctx: CallContext, message: dict[str, Any], usage: dict[str, int] | None
) -> web.StreamResponse:
    """Write ``message`` as Anthropic's SSE event sequence."""
    block: dict[str, Any] = message["content"][0]
    start = {**message, "content": [], "stop_reason": None}
    if usage is not None:
        start["usage"] = {**usage, "output_tokens": 1}
    words = request.app[STATE_KEY].config.stream_chunk_words
    if block["type"] == "text":
        opening: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _split(block["text"], words)]
    else:
        opening = {**block, "input": {}}
        pieces = _split(orjson.dumps(block["input"]).decode(), words, is_json=True)
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
    response = await open_sse(request)
    await response.write(_event("message_start", {"message": start}))
    await response.write(_event("content_block_start", {"index": 0, "content_block": opening}))
    await response.write(_event("ping", {}))
    events = [_event("content_block_delta", {"index": 0, "delta": delta}) for delta in deltas]
    if not await write_events(request, response, events, ctx):
        return response
    await response.write(_event("content_block_stop", {"index": 0}))
    closing: dict[str, Any] = {"delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}}
    if usage is not None:
        closing["usage"] = usage  # cumulative, as the API sends it
    await response.write(_event("message_delta", closing))
    await response.write(_event("message_stop", {}))
    await response.write_eof()
    return response


async def create_message(request: web.Request) -> web.StreamResponse:
    """``POST /v1/messages``."""
    return await serve_call(request, "anthropic", _answer)


def add_routes(app: web.Application) -> None:
    """Register the Anthropic routes on ``app``."""
    app.router.add_post("/v1/messages", create_message)
