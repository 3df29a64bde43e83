"""``POST /v1/chat/completions`` in OpenAI's format: the request body, the answer, errors and the SSE stream."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.result import LLMResult
from streamgate.errors import InvalidClientRequest
from streamgate.server.formats import Turn, extras, hit_max_tokens, refuse_unsupported, sse, text_of
from streamgate.server.status import HttpError

UNSUPPORTED = ("tools", "functions", "tool_choice", "function_call", "audio", "prediction", "logprobs")
"""Parameters the gateway cannot honour: refused (400) rather than silently dropped when set."""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class ChatMessageIn(BaseModel):
    """One chat turn; ``content`` is text or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    """``stream_options``."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The request body of ``POST /v1/chat/completions`` (other OpenAI parameters are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=128)
    messages: list[ChatMessageIn] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1, le=200_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=200_000)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int | None = Field(default=None, ge=1, le=1, description="Only one choice is produced.")
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    response_format: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    user: str | None = None


class OpenAIFormat:
    """OpenAI's chat-completions dialect."""

    name = "openai"

    def request_fields(self, body: ChatCompletionRequest) -> dict[str, Any]:
        """The gateway request fields of ``body``."""
        refuse_unsupported(body, UNSUPPORTED)
        messages = []
        for i, message in enumerate(body.messages):
            if message.content is None:
                raise InvalidClientRequest(f"messages[{i}]: content is required (tool calls are not supported)")
            role = "system" if message.role == "developer" else message.role
            messages.append({"role": role, "content": text_of(message.content, f"messages[{i}]")})
        fields: dict[str, Any] = {"messages": messages, "model": body.model}
        max_tokens = body.max_completion_tokens or body.max_tokens
        if max_tokens is not None:
            fields["max_tokens"] = max_tokens
        for name in ("temperature", "top_p", "seed"):
            if (value := getattr(body, name)) is not None:
                fields[name] = value
        if body.stop is not None:
            fields["stop"] = [body.stop] if isinstance(body.stop, str) else body.stop
        if (schema := _schema_of(body.response_format)) is not None:
            fields["response_format"] = schema
        if body.metadata:
            fields["metadata"] = dict(body.metadata)
        return fields

    def response(self, turn: Turn, result: LLMResult) -> dict[str, Any]:
        """A ``chat.completion`` object."""
        return {
            "id": _completion_id(turn),
            "object": "chat.completion",
            "created": turn.created,
            "model": result.model or turn.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.output or "", "refusal": None},
                    "logprobs": None,
                    "finish_reason": _finish_reason(turn, result),
                }
            ],
            "usage": _usage(result),
            "system_fingerprint": None,
            "streamgate": extras(result),
        }

    def error_body(self, error: HttpError, request_id: str | None) -> dict[str, Any]:
        """OpenAI's ``{"error": {message, type, param, code}}`` with the stable code as ``code``."""
        return {
            "error": {
                "message": error.message,
                "type": _ERROR_TYPES.get(error.status, "server_error"),
                "param": None,
                "code": error.code,
                "limit": error.limit,
                "retry_after_ms": error.retry_after_ms,
                "request_id": request_id,
            }
        }

    def stream_start(self, turn: Turn) -> list[bytes]:
        """The first chunk: the assistant role."""
        return [self._chunk(turn, {"role": "assistant", "content": ""}, None)]

    def stream_delta(self, turn: Turn, text: str) -> list[bytes]:
        """A content chunk."""
        return [self._chunk(turn, {"content": text}, None)] if text else []

    def stream_end(self, turn: Turn, result: LLMResult) -> list[bytes]:
        """The finish chunk, the usage chunk when asked for, then ``[DONE]``."""
        events = [self._chunk(turn, {}, _finish_reason(turn, result), model=result.model)]
        if turn.include_usage:
            usage_chunk = self._base(turn, result.model) | {"choices": [], "usage": _usage(result)}
            events.append(sse(usage_chunk | {"streamgate": extras(result)}))
        return [*events, sse(b"[DONE]")]

    def stream_error(self, turn: Turn, error: HttpError) -> list[bytes]:
        """An error event (the OpenAI SDK raises it as an ``APIError``)."""
        return [sse(self.error_body(error, turn.request.id))]

    def _chunk(self, turn: Turn, delta: dict[str, Any], finish: str | None, *, model: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        body = self._base(turn, model) | {"choices": [choice]}
        if turn.include_usage:
            body["usage"] = None
        return sse(body)

    def _base(self, turn: Turn, model: str | None) -> dict[str, Any]:
        return {
            "id": _completion_id(turn),
            "object": "chat.completion.chunk",
            "created": turn.created,
            "model": model or turn.model,
            "system_fingerprint": None,
        }


def _completion_id(turn: Turn) -> str:
    return f"chatcmpl-{turn.request.id}"


def _finish_reason(turn: Turn, result: LLMResult) -> str:
    return "length" if hit_max_tokens(turn, result) else "stop"


def _usage(result: LLMResult) -> dict[str, Any]:
    usage = result.usage
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _schema_of(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema a ``response_format`` asks for (``json_object``: any object; ``text``: none)."""
    if not response_format:
        return None
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    spec = response_format.get("json_schema")
    if kind == "json_schema" and isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
        schema: dict[str, Any] = spec["schema"]
        return schema
    raise InvalidClientRequest("response_format: expected type text, json_object or json_schema with a schema")
