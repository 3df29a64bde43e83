"""One streamed Messages API attempt through the official Anthropic SDK (``stream=True`` events).

The SDK decodes the documented event sequence (``message_start``, ``content_block_delta``, ``message_delta``, ...)
into typed events; each ``text_delta`` goes to the call's :class:`~gateway.providers.base.DeltaSink` as it
arrives. Usage is ``message_start``'s updated by ``message_delta``'s cumulative counts
(:func:`gateway.providers.usage.anthropic_stream_usage`), so the answer is priced exactly like a plain one. A
forced-tool (JSON schema) answer is collected from its ``input_json_delta`` pieces and not fed to the sink.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
from anthropic import AsyncStream
from anthropic.types import Message, RawMessageStreamEvent

from gateway.errors import ProviderBadResponse
from gateway.providers._common import open_stream
from gateway.providers.base import Completion, CompletionCall, DeltaSink
from gateway.providers.usage import anthropic_stream_usage

MESSAGES_PATH = "/v1/messages"


async def stream_message(
    client: anthropic.AsyncAnthropic, call: CompletionCall, body: dict[str, Any], sink: DeltaSink, *, provider: str
) -> Completion:
    """Stream one attempt with ``body`` (the plain call's JSON body), feeding ``sink``; the whole answer returned.

    Errors are the SDK's (or the transport's); the adapter maps them.
    """
    texts: list[str] = []
    tool_json: list[str] = []
    usage_events: list[dict[str, Any]] = []
    model, stop_reason, stopped = None, None, False
    async with open_stream(
        client,
        call,
        MESSAGES_PATH,
        {**body, "stream": True},
        sink,
        cast_to=Message,
        stream_cls=AsyncStream[RawMessageStreamEvent],
    ) as stream:
        async for event in stream:
            if event.type == "message_start":
                model = event.message.model
                usage_events.append({"type": "message_start", "message": {"usage": event.message.usage.model_dump()}})
            elif event.type == "content_block_delta":
                if event.delta.type == "text_delta":
                    texts.append(event.delta.text)
                    await sink.delta(event.delta.text)
                elif event.delta.type == "input_json_delta":
                    tool_json.append(event.delta.partial_json)
            elif event.type == "message_delta":
                stop_reason = event.delta.stop_reason or stop_reason
                usage_events.append({"type": "message_delta", "usage": event.usage.model_dump()})
            elif event.type == "message_stop":
                stopped = True
    if not stopped:
        raise ProviderBadResponse(
            f"{provider}: the stream ended early", provider=provider, model=call.model, status=200
        )
    usage = anthropic_stream_usage(usage_events)
    return Completion(
        provider=provider,
        model=model or call.model,
        text=_tool_text(tool_json, provider, call) if call.json_schema is not None else "".join(texts),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        finish_reason=stop_reason,
        cached_input_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )


def _tool_text(pieces: list[str], provider: str, call: CompletionCall) -> str:
    """The forced tool's input, re-serialised as the plain adapter does."""
    try:
        value = json.loads("".join(pieces) or "null")
    except json.JSONDecodeError as exc:
        raise ProviderBadResponse(
            f"{provider}: tool input is not JSON: {exc}", provider=provider, model=call.model
        ) from exc
    if not isinstance(value, dict):
        raise ProviderBadResponse(
            f"{provider}: tool_use input is not a JSON object", provider=provider, model=call.model
        )
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
