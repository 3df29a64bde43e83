"""One streamed chat-completions attempt through the official OpenAI SDK (``stream=True``, ``include_usage``).

The SDK decodes the server-sent events into typed ``ChatCompletionChunk`` objects (its ``AsyncStream``); each
content delta goes to the call's :class:`~gateway.providers.base.DeltaSink` as it arrives, and the last chunk's
``usage`` (sent because of ``stream_options.include_usage``) prices the answer exactly like a plain one.
"""

from __future__ import annotations

from typing import Any

import openai
from openai import AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from gateway.errors import ProviderBadResponse
from gateway.providers._common import open_stream
from gateway.providers.base import Completion, CompletionCall, DeltaSink
from gateway.providers.usage import ReportedUsage, openai_usage

CHAT_COMPLETIONS_PATH = "/chat/completions"


async def stream_chat(
    client: openai.AsyncOpenAI, call: CompletionCall, body: dict[str, Any], sink: DeltaSink, *, provider: str
) -> Completion:
    """Stream one attempt with ``body`` (the plain call's JSON body), feeding ``sink``; the whole answer returned.

    Errors are the SDK's (or the transport's); the adapter maps them.
    """
    parts: list[str] = []
    usage, model, finish, answered = ReportedUsage(), None, None, False
    async with open_stream(
        client,
        call,
        CHAT_COMPLETIONS_PATH,
        {"model": call.model, **body, "stream": True, "stream_options": {"include_usage": True}},
        sink,
        cast_to=ChatCompletion,
        stream_cls=AsyncStream[ChatCompletionChunk],
    ) as stream:
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage is not None:
                usage = openai_usage(chunk.usage.model_dump())
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            answered = True
            text = choice.delta.content if choice.delta.content is not None else choice.delta.refusal
            if choice.delta.refusal is not None:
                finish = "refusal"
            if text:
                parts.append(text)
                await sink.delta(text)
            if choice.finish_reason is not None and finish != "refusal":
                finish = choice.finish_reason
    if not answered:
        raise ProviderBadResponse(
            f"{provider}: the stream had no choices", provider=provider, model=call.model, status=200
        )
    return Completion(
        provider=provider,
        model=model or call.model,
        text="".join(parts),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        finish_reason=finish,
        cached_input_tokens=usage.cached_input_tokens,
        reasoning_tokens=usage.reasoning_tokens,
    )
