"""The Anthropic adapter: one Messages API call per attempt through the official async SDK."""

from __future__ import annotations

import asyncio
import json
from typing import cast

import anthropic
from anthropic.types import Message, MessageParam, ToolChoiceToolParam, ToolParam

from gateway.errors import ProviderBadResponse
from gateway.providers._common import (
    client_timeout,
    missing_key_error,
    pooled_transport,
    request_headers,
    resolve_api_key,
    token_count,
)
from gateway.providers.base import Completion, CompletionCall
from gateway.providers.error_mapping import map_sdk_error

ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com"
SCHEMA_TOOL_NAME = "output"


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
        system, messages = _split_system(call)
        tools: list[ToolParam] | anthropic.Omit = anthropic.omit
        tool_choice: ToolChoiceToolParam | anthropic.Omit = anthropic.omit
        if call.json_schema is not None:
            tools = [
                cast(
                    ToolParam,
                    {
                        "name": SCHEMA_TOOL_NAME,
                        "description": "Give the answer as this tool's input.",
                        "input_schema": call.json_schema,
                    },
                )
            ]
            tool_choice = {"type": "tool", "name": SCHEMA_TOOL_NAME}
        try:
            async with asyncio.timeout(call.timeout_s):
                response = await self._client.messages.create(
                    model=call.model,
                    messages=messages,
                    max_tokens=call.max_tokens,
                    system=system if system is not None else anthropic.omit,
                    extra_body={"temperature": call.temperature} if call.temperature is not None else None,
                    tools=tools,
                    tool_choice=tool_choice,
                    extra_headers=request_headers(call),
                    timeout=call.timeout_s,
                )
        except Exception as exc:
            raise map_sdk_error(exc, provider=self.name, model=call.model) from exc
        return self._to_completion(call, response)

    async def aclose(self) -> None:
        """Close the SDK client and its connection pool."""
        if self._client is not None:
            await self._client.close()

    def _to_completion(self, call: CompletionCall, response: object) -> Completion:
        """Read text (or the forced tool's input), usage and stop reason; malformed is a bad response."""
        if not isinstance(response, Message):
            raise self._bad(call, f"expected a message, got {type(response).__name__}")
        blocks = getattr(response, "content", None)
        if not isinstance(blocks, list):
            raise self._bad(call, "response has no content blocks")
        if call.json_schema is not None:
            text = self._tool_input_json(call, blocks)
        else:
            texts = [getattr(b, "text", None) for b in blocks if getattr(b, "type", None) == "text"]
            if not texts or not all(isinstance(t, str) for t in texts):
                raise self._bad(call, "response has no text block")
            text = "".join(cast(list[str], texts))
        usage = getattr(response, "usage", None)
        model = getattr(response, "model", None)
        stop_reason = getattr(response, "stop_reason", None)
        return Completion(
            provider=self.name,
            model=model if isinstance(model, str) and model else call.model,
            text=text,
            input_tokens=_input_tokens(usage),
            output_tokens=token_count(getattr(usage, "output_tokens", None)),
            finish_reason=stop_reason if isinstance(stop_reason, str) else None,
        )

    def _tool_input_json(self, call: CompletionCall, blocks: list[object]) -> str:
        for block in blocks:
            is_tool_use = getattr(block, "type", None) == "tool_use"
            if is_tool_use and getattr(block, "name", None) == SCHEMA_TOOL_NAME:
                tool_input = getattr(block, "input", None)
                if not isinstance(tool_input, dict):
                    raise self._bad(call, "tool_use input is not a JSON object")
                try:
                    return json.dumps(tool_input, ensure_ascii=False, separators=(",", ":"))
                except (TypeError, ValueError) as exc:
                    raise self._bad(call, f"tool_use input is not JSON-serialisable: {exc}") from exc
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


def _input_tokens(usage: object) -> int | None:
    """Total prompt tokens: uncached input plus cache writes and reads (Anthropic reports them apart)."""
    base = token_count(getattr(usage, "input_tokens", None))
    if base is None:
        return None
    cached = (
        token_count(getattr(usage, "cache_creation_input_tokens", None)),
        token_count(getattr(usage, "cache_read_input_tokens", None)),
    )
    return base + sum(c for c in cached if c is not None)
