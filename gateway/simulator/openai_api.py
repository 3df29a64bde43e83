"""OpenAI wire format: ``POST /v1/chat/completions`` (plain and SSE streaming) and ``GET /v1/models``.

The reply is deterministic per prompt (see :mod:`gateway.simulator.answers`). ``response_format`` of type
``json_schema`` makes the content a JSON document valid for the schema; ``json_object`` makes it
``{"answer": "..."}``. Streaming sends ``chat.completion.chunk`` objects and ``data: [DONE]``; with
``stream_options.include_usage`` the last chunk carries the usage and no choices.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from gateway.simulator.answers import answer_text, broken_json, json_answer, prompt_seed, prompt_tokens
from gateway.simulator.calls import (
    JSON_TYPE,
    STATE_KEY,
    BadRequest,
    CallContext,
    error_response,
    new_id,
    open_sse,
    serve_call,
    split_deltas,
    write_events,
)
from gateway.simulator.directives import last_user_text, without_directives
from gateway.tokens import count_text

DEFAULT_MAX_TOKENS = 256
_FINGERPRINT = "fp_streamgate_sim"


def _content(body: dict[str, Any], seed: int, max_tokens: int, bad_json: bool) -> tuple[str, str, bool]:
    """The reply content, its finish reason and whether it is JSON."""
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt is None or kind == "text":
        answer = answer_text(seed, max_tokens)
        return answer.text, "length" if answer.truncated else "stop", False
    if kind not in ("json_object", "json_schema"):
        raise BadRequest(f"Invalid 'response_format': {fmt!r}.")
    if bad_json:
        return broken_json(seed), "stop", False
    schema: Any = None
    if kind == "json_schema":
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("schema", {}), dict):
            raise BadRequest("'response_format.json_schema' must be an object with a 'schema'.")
        schema = spec.get("schema", {})
    return orjson.dumps(json_answer(schema, seed)).decode(), "stop", True


def _max_tokens(body: dict[str, Any]) -> int:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    if value is None:
        return DEFAULT_MAX_TOKENS
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest("'max_tokens' must be a positive integer.")
    return value


def _usage(prompt: int, visible: int, ctx: CallContext) -> dict[str, Any]:
    """OpenAI's usage object: cached tokens are part of ``prompt_tokens``, reasoning tokens of ``completion_tokens``."""
    reasoning = ctx.directives.reasoning_tokens
    completion = visible + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": min(prompt, ctx.directives.cached_tokens), "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0},
    }


def _reply_parts(ctx: CallContext) -> tuple[dict[str, Any], str, str, bool, dict[str, Any] | None]:
    """The reply's head (id, created, model), content, finish reason, whether it is JSON, and its usage."""
    body = ctx.body
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty array.")
    seed = prompt_seed(ctx.model, messages)
    content, finish, is_json = _content(body, seed, _max_tokens(body), ctx.directives.bad_json)
    if ctx.directives.echo and not is_json:
        content, finish = without_directives(last_user_text(messages)), "stop"
    usage = None if ctx.directives.no_usage else _usage(prompt_tokens(messages), count_text(content), ctx)
    head: dict[str, Any] = {"id": new_id("chatcmpl-"), "created": int(time.time()), "model": ctx.model}
    return head, content, finish, is_json, usage


def completion_body(ctx: CallContext) -> dict[str, Any]:
    """The non-streamed ``chat.completion`` answer to ``ctx`` (also a batch output line's body)."""
    head, content, finish, _, usage = _reply_parts(ctx)
    reply: dict[str, Any] = {
        **head,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "system_fingerprint": _FINGERPRINT,
    }
    if usage is not None:
        reply["usage"] = usage
    return reply


async def _answer(request: web.Request, ctx: CallContext) -> web.StreamResponse:
    if not ctx.body.get("stream"):
        return web.Response(body=orjson.dumps(completion_body(ctx)), content_type=JSON_TYPE)
    head, content, finish, is_json, usage = _reply_parts(ctx)
    words = request.app[STATE_KEY].config.stream_chunk_words
    options = ctx.body.get("stream_options")
    wants_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    deltas = split_deltas(content, words, is_json=is_json)
    return await _stream(request, ctx, head, deltas, finish, usage if wants_usage else None)


async def _stream(
    request: web.Request,
    ctx: CallContext,
    head: dict[str, Any],
    deltas: list[str],
    finish: str,
    usage: dict[str, Any] | None,
) -> web.StreamResponse:
    """Write the reply as ``chat.completion.chunk`` SSE events; ``usage`` is sent only when not ``None``."""
    include_usage = usage is not None
    base: dict[str, Any] = {**head, "object": "chat.completion.chunk", "system_fingerprint": _FINGERPRINT}
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return b"data: " + orjson.dumps({**base, "choices": [choice]}) + b"\n\n"

    response = await open_sse(request)
    await response.write(chunk({"role": "assistant", "content": ""}, None))
    if not await write_events(request, response, [chunk({"content": piece}, None) for piece in deltas], ctx):
        return response
    await response.write(chunk({}, finish))
    if include_usage:
        await response.write(b"data: " + orjson.dumps({**base, "choices": [], "usage": usage}) + b"\n\n")
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """``POST /v1/chat/completions``."""
    return await serve_call(request, "openai", _answer)


async def list_models(request: web.Request) -> web.Response:
    """``GET /v1/models``: the configured model names."""
    if "Bearer " not in request.headers.get("Authorization", ""):
        return error_response("openai", 401, "Missing API key: send an Authorization: Bearer header.")
    models = request.app[STATE_KEY].config.models
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "streamgate-simulator"} for name in models]
    return web.Response(body=orjson.dumps({"object": "list", "data": data}), content_type=JSON_TYPE)


def add_routes(app: web.Application) -> None:
    """Register the OpenAI routes on ``app``."""
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
