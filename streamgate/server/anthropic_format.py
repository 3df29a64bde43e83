"""``POST /v1/messages`` in Anthropic's format: the request body, the answer, errors and the SSE stream."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.result import LLMResult
from streamgate.server.formats import Turn, extras, hit_max_tokens, refuse_unsupported, sse, text_of
from streamgate.server.status import HttpError

UNSUPPORTED = ("tools", "tool_choice", "thinking", "mcp_servers", "container")
"""Parameters the gateway cannot honour: refused (400) rather than silently dropped when set."""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    503: "overloaded_error",
}


class MessageIn(BaseModel):
    """One turn; ``content`` is text or a list of text blocks."""

    model_config = ConfigDict(extra="allow")

    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class MessagesRequest(BaseModel):
    """The request body of ``POST /v1/messages`` (``top_k`` and other parameters are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=128)
    max_tokens: int = Field(ge=1, le=200_000)
    messages: list[MessageIn] = Field(min_length=1)
    system: str | list[dict[str, Any]] | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop_sequences: list[str] | None = None
    stream: bool | None = False
    metadata: dict[str, Any] | None = None


class AnthropicFormat:
    """Anthropic's messages dialect."""

    name = "anthropic"

    def request_fields(self, body: MessagesRequest) -> dict[str, Any]:
        """The gateway request fields of ``body``."""
        refuse_unsupported(body, UNSUPPORTED)
        messages = [
            {"role": m.role, "content": text_of(m.content, f"messages[{i}]")} for i, m in enumerate(body.messages)
        ]
        fields: dict[str, Any] = {"messages": messages, "model": body.model, "max_tokens": body.max_tokens}
        if body.system:
            fields["system"] = text_of(body.system, "system")
        for name in ("temperature", "top_p"):
            if (value := getattr(body, name)) is not None:
                fields[name] = value
        if body.stop_sequences:
            fields["stop"] = body.stop_sequences
        return fields

    def response(self, turn: Turn, result: LLMResult) -> dict[str, Any]:
        """A ``message`` object."""
        return {
            "id": _message_id(turn),
            "type": "message",
            "role": "assistant",
            "model": result.model or turn.model,
            "content": [{"type": "text", "text": result.output or ""}],
            "stop_reason": _stop_reason(turn, result),
            "stop_sequence": None,
            "usage": _usage(result),
            "streamgate": extras(result),
        }

    def error_body(self, error: HttpError, request_id: str | None) -> dict[str, Any]:
        """Anthropic's ``{"type": "error", "error": {type, message}}`` with the stable code as ``error.code``."""
        return {
            "type": "error",
            "error": {
                "type": _ERROR_TYPES.get(error.status, "api_error"),
                "message": error.message,
                "code": error.code,
                "limit": error.limit,
                "retry_after_ms": error.retry_after_ms,
            },
            "request_id": request_id,
        }

    def stream_start(self, turn: Turn) -> list[bytes]:
        """``message_start`` (usage is known only at the end) and the text block's start."""
        message: dict[str, Any] = {
            "id": _message_id(turn),
            "type": "message",
            "role": "assistant",
            "model": turn.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        return [
            sse({"type": "message_start", "message": message}, "message_start"),
            sse(block, "content_block_start"),
        ]

    def stream_delta(self, turn: Turn, text: str) -> list[bytes]:
        """A ``content_block_delta``."""
        if not text:
            return []
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
        return [sse(delta, "content_block_delta")]

    def stream_end(self, turn: Turn, result: LLMResult) -> list[bytes]:
        """``content_block_stop``, ``message_delta`` (stop reason, usage) and ``message_stop``."""
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(turn, result), "stop_sequence": None},
            "usage": _usage(result),
            "streamgate": extras(result),
        }
        return [
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            sse(delta, "message_delta"),
            sse({"type": "message_stop"}, "message_stop"),
        ]

    def stream_error(self, turn: Turn, error: HttpError) -> list[bytes]:
        """An ``error`` event (the Anthropic SDK raises it as an ``APIStatusError``)."""
        return [sse(self.error_body(error, turn.request.id), "error")]


def _message_id(turn: Turn) -> str:
    return f"msg_{turn.request.id}"


def _stop_reason(turn: Turn, result: LLMResult) -> Literal["end_turn", "max_tokens"]:
    return "max_tokens" if hit_max_tokens(turn, result) else "end_turn"


def _usage(result: LLMResult) -> dict[str, int]:
    """Anthropic's counts: its ``input_tokens`` excludes the cache reads and writes (ours includes them)."""
    usage = result.usage
    return {
        "input_tokens": usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
    }
