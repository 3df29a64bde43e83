"""The OpenAI adapter: one ``chat.completions`` call per attempt through the official async SDK (streamed through
:mod:`gateway.providers.openai_stream` when the call has a delta sink)."""

from __future__ import annotations

import asyncio
from typing import cast

import httpx2
import openai
import orjson
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from gateway.errors import ProviderBadResponse
from gateway.providers._common import (
    client_timeout,
    missing_key_error,
    pooled_transport,
    request_headers,
    resolve_api_key,
)
from gateway.providers.base import Completion, CompletionCall
from gateway.providers.error_mapping import map_sdk_error
from gateway.providers.openai_stream import stream_chat
from gateway.providers.usage import openai_usage

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
SCHEMA_NAME = "output"
CHAT_COMPLETIONS_PATH = "/chat/completions"


class OpenAIProvider:
    """:class:`~gateway.providers.base.Provider` for OpenAI-compatible chat-completions APIs.

    The SDK's retries are off (``max_retries=0``); its HTTP client is pooled for ``max_connections``
    concurrent calls, all kept alive. Without ``api_key`` and ``base_url`` the provider is still built, but
    every :meth:`complete` raises :class:`~gateway.errors.ProviderAuthError`. With a ``base_url`` but no key
    (a simulator or a credential-adding proxy) a placeholder key is sent.
    """

    def __init__(
        self,
        *,
        name: str = "openai",
        api_key: str | None = None,
        base_url: str | None = None,
        max_connections: int = 1024,
    ) -> None:
        self.name = name
        self.base_url = base_url or OPENAI_DEFAULT_BASE_URL
        key = resolve_api_key(api_key, base_url)
        self._client: openai.AsyncOpenAI | None = None
        if key is not None:
            # Key and base URL are explicit, so the SDK never falls back to its environment variables.
            self._client = openai.AsyncOpenAI(
                api_key=key,
                base_url=self.base_url,
                max_retries=0,
                timeout=client_timeout(),
                http_client=openai.DefaultAsyncHttpxClient(
                    transport=pooled_transport(max_connections), timeout=client_timeout()
                ),
            )

    async def complete(self, call: CompletionCall) -> Completion:
        """Make one chat-completions attempt; raises only :class:`~gateway.errors.ProviderError`."""
        if self._client is None:
            raise missing_key_error(self.name, call.model, "OPENAI_API_KEY")
        try:
            async with asyncio.timeout(call.timeout_s):
                if call.on_delta is not None:
                    return await stream_chat(self._client, call, _body(call), call.on_delta, provider=self.name)
                # The SDK's documented raw route (``client.post`` with ``cast_to=httpx.Response``): its auth,
                # headers, timeouts and error mapping, without what ``chat.completions.create`` adds: the
                # typed-params transform (~1 ms of CPU per call on a typed message list, measured with cProfile),
                # response model construction (~0.3 ms) and, even with the body in ``extra_body``, the raw-response
                # wrapper (client CPU per call against the simulator 725 -> ~600 us). The body is plain JSON, sent as
                # the bytes orjson makes (``content``): the SDK's own encoder (``json.dumps``) costs ~50x more and
                # writes the same bytes.
                response = await self._client.post(
                    CHAT_COMPLETIONS_PATH,
                    content=orjson.dumps({"model": call.model, **_body(call)}),
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
        """A chat-completion body received another way (a batch result) read like a call's answer."""
        return self._to_completion(call, document)

    def _to_completion(self, call: CompletionCall, document: object) -> Completion:
        """Read text, usage and finish reason defensively: a malformed body is ``ProviderBadResponse``."""
        if not isinstance(document, dict):
            raise self._bad(call, f"expected a chat completion object, got {type(document).__name__}")
        choices = document.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._bad(call, "response has no choices")
        choice = choices[0]
        message = choice.get("message")
        message = message if isinstance(message, dict) else {}
        content = message.get("content")
        finish_reason = choice.get("finish_reason")
        if not isinstance(content, str):
            refusal = message.get("refusal")
            if not isinstance(refusal, str):
                raise self._bad(call, "response message has no text content")
            content, finish_reason = refusal, "refusal"
        usage = openai_usage(document.get("usage"))
        model = document.get("model")
        return Completion(
            provider=self.name,
            model=model if isinstance(model, str) and model else call.model,
            text=content,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
            cached_input_tokens=usage.cached_input_tokens,
            reasoning_tokens=usage.reasoning_tokens,
        )

    def _bad(self, call: CompletionCall, why: str) -> ProviderBadResponse:
        return ProviderBadResponse(f"{self.name}: {why}", provider=self.name, model=call.model, status=200)


def request_body(call: CompletionCall) -> dict[str, object]:
    """The whole chat-completions body of ``call`` (what a batch input line carries)."""
    return {"model": call.model, **_body(call)}


def _body(call: CompletionCall) -> dict[str, object]:
    """The chat-completions request body (besides ``model``) as plain JSON."""
    body: dict[str, object] = {"messages": _messages(call), "max_completion_tokens": call.max_tokens}
    if call.temperature is not None:
        body["temperature"] = call.temperature
    if call.top_p is not None:
        body["top_p"] = call.top_p
    if call.stop:
        body["stop"] = list(call.stop)
    if call.seed is not None:
        body["seed"] = call.seed
    if call.json_schema is not None:
        format_: ResponseFormatJSONSchema = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "schema": call.json_schema},
        }
        body["response_format"] = format_
    return body


def _messages(call: CompletionCall) -> list[ChatCompletionMessageParam]:
    """The system prompt as a leading system message, then the call's messages unchanged."""
    messages: list[dict[str, str]] = []
    if call.system:
        messages.append({"role": "system", "content": call.system})
    messages.extend(dict(m) for m in call.messages)
    return cast(list[ChatCompletionMessageParam], messages)
