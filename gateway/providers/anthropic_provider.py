"""The Anthropic adapter: one Messages API call per attempt through the official async SDK (streamed through
:mod:`gateway.providers.anthropic_stream` when the call has a delta sink)."""

from __future__ import annotations

import asyncio
import json
from typing import cast

import anthropic
import httpx2
import orjson
from anthropic.types import MessageParam

from gateway.errors import ProviderBadResponse
from gateway.providers._common import (
    client_timeout,
    missing_key_error,
    pooled_transport,
    request_headers,
    resolve_api_key,
)
from gateway.providers.anthropic_stream import stream_message
from gateway.providers.base import Completion, CompletionCall
from gateway.providers.error_mapping import map_sdk_error
from gateway.providers.usage import anthropic_usage
from gateway.tokens import count_text

ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com"
# Anthropic caches a prompt prefix only from this many tokens (Haiku models need twice as many).
CACHE_MIN_TOKENS = 1024
CACHE_MIN_TOKENS_HAIKU = 2048
SCHEMA_TOOL_NAME = "output"
MESSAGES_PATH = "/v1/messages"


class AnthropicProvider:
    """:class:`~gateway.providers.base.Provider` for the Anthropic Messages API.

    The system prompt (and any ``system``-role message, folded in) goes in ``system=``. A JSON schema is
    enforced with a forced tool: the tool's ``input`` is returned re-serialised as JSON text.
    ``temperature`` is sent in the request body (this SDK version no longer has the parameter). SDK retries
    are off; pool and missing-key behaviour are as for
    :class:`~gateway.providers.openai_provider.OpenAIProvider`.
    """

    def __init__(
        self,
        *,
        name: str = "anthropic",
        api_key: str | None = None,
        base_url: str | None = None,
        max_connections: int = 1024,
    ) -> None:
        self.name = name
        self.base_url = base_url or ANTHROPIC_DEFAULT_BASE_URL
        key = resolve_api_key(api_key, base_url)
        self._client: anthropic.AsyncAnthropic | None = None
        if key is not None:
            # Explicit key and base URL: the SDK consults no credential variables, profiles or config files.
            self._client = anthropic.AsyncAnthropic(
                api_key=key,
                base_url=self.base_url,
                max_retries=0,
                timeout=client_timeout(),
                http_client=anthropic.DefaultAsyncHttpxClient(
                    transport=pooled_transport(max_connections), timeout=client_timeout()
                ),
            )

    async def complete(self, call: CompletionCall) -> Completion:
        """Make one Messages API attempt; raises only :class:`~gateway.errors.ProviderError` subclasses."""
        if self._client is None:
            raise missing_key_error(self.name, call.model, "ANTHROPIC_API_KEY")
        try:
            async with asyncio.timeout(call.timeout_s):
                if call.on_delta is not None:
                    body = {"model": call.model, "max_tokens": call.max_tokens, **_body(call)}
                    return await stream_message(self._client, call, body, call.on_delta, provider=self.name)
                # As in the OpenAI adapter: the SDK's raw ``post`` route, the body encoded by orjson, and we parse
                # the answer ourselves.
                response = await self._client.post(
                    MESSAGES_PATH,
                    content=orjson.dumps({"model": call.model, "max_tokens": call.max_tokens, **_body(call)}),
                    cast_to=httpx2.Response,
                    options={"headers": request_headers(call), "timeout": call.timeout_s},
                )
                document = orjson.loads(response.content)
        except Exception as exc:
            raise map_sdk_error(exc, provider=self.name, model=call.model) from exc
        return self._to_completion(call, document)

    async def aclose(self) -> None:
        """Close the SDK client and its connection pool."""
        if self._client is not None:
            await self._client.close()

    def completion_from(self, call: CompletionCall, document: object) -> Completion:
        """A message body received another way (a batch result) read like a call's answer."""
        return self._to_completion(call, document)

    def _to_completion(self, call: CompletionCall, document: object) -> Completion:
        """Read text (or the forced tool's input), usage and stop reason; malformed is a bad response."""
        if not isinstance(document, dict):
            raise self._bad(call, f"expected a message object, got {type(document).__name__}")
        blocks = document.get("content")
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise self._bad(call, "response has no content blocks")
        if call.json_schema is not None:
            text = self._tool_input_json(call, blocks)
        else:
            texts = [b.get("text") for b in blocks if b.get("type") == "text"]
            if not texts or not all(isinstance(t, str) for t in texts):
                raise self._bad(call, "response has no text block")
            text = "".join(cast(list[str], texts))
        usage = anthropic_usage(document.get("usage"))
        model = document.get("model")
        stop_reason = document.get("stop_reason")
        return Completion(
            provider=self.name,
            model=model if isinstance(model, str) and model else call.model,
            text=text,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            finish_reason=stop_reason if isinstance(stop_reason, str) else None,
            cached_input_tokens=usage.cached_input_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        )

    def _tool_input_json(self, call: CompletionCall, blocks: list[dict[str, object]]) -> str:
        for block in blocks:
            if block.get("type") == "tool_use" and block.get("name") == SCHEMA_TOOL_NAME:
                tool_input = block.get("input")
                if not isinstance(tool_input, dict):
                    raise self._bad(call, "tool_use input is not a JSON object")
                return json.dumps(tool_input, ensure_ascii=False, separators=(",", ":"))
        raise self._bad(call, f"response has no {SCHEMA_TOOL_NAME!r} tool_use block")

    def _bad(self, call: CompletionCall, why: str) -> ProviderBadResponse:
        return ProviderBadResponse(f"{self.name}: {why}", provider=self.name, model=call.model, status=200)


def _split_system(call: CompletionCall) -> tuple[str | None, list[MessageParam]]:
    """Fold ``call.system`` and every ``system``-role message into one system prompt; keep the rest."""
    system_parts = [call.system] if call.system else []
    messages: list[dict[str, str]] = []
    for message in call.messages:
        if message.get("role") == "system":
            system_parts.append(message.get("content", ""))
        else:
            messages.append(dict(message))
    system = "\n\n".join(part for part in system_parts if part) or None
    return system, cast(list[MessageParam], messages)


def request_body(call: CompletionCall) -> dict[str, object]:
    """The whole Messages API body of ``call`` (what a message batch request's ``params`` carry)."""
    return {"model": call.model, "max_tokens": call.max_tokens, **_body(call)}


def _body(call: CompletionCall) -> dict[str, object]:
    """The Messages API body (besides ``model`` and ``max_tokens``) as plain JSON."""
    system, messages = _split_system(call)
    body: dict[str, object] = {"messages": messages}
    if system is not None:
        body["system"] = _system_blocks(system) if cacheable_system(system, call.model) else system
    if call.temperature is not None:
        body["temperature"] = call.temperature
    if call.top_p is not None:
        body["top_p"] = call.top_p
    if call.stop:
        body["stop_sequences"] = list(call.stop)
    if call.json_schema is not None:
        body["tools"] = [
            {
                "name": SCHEMA_TOOL_NAME,
                "description": "Give the answer as this tool's input.",
                "input_schema": call.json_schema,
            }
        ]
        body["tool_choice"] = {"type": "tool", "name": SCHEMA_TOOL_NAME}
    return body


def cacheable_system(system: str, model: str) -> bool:
    """Whether a system prompt is long enough for Anthropic's prompt cache.

    Counted with cl100k_base, which usually yields fewer tokens than Claude's own tokenizer: a prompt counted
    over the minimum is over it for Claude too (one just under may miss the cache, which only costs the saving).
    """
    minimum = CACHE_MIN_TOKENS_HAIKU if "haiku" in model else CACHE_MIN_TOKENS
    return len(system) >= minimum and count_text(system) >= minimum  # the length test skips counting short ones


def _system_blocks(system: str) -> list[dict[str, object]]:
    """The system prompt as one text block marked as a cache breakpoint (it is stable across requests)."""
    return [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
