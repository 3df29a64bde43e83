"""What the two wire formats (OpenAI chat completions, Anthropic messages) have in common: one protocol each
implements, the context of one streamed answer, and Server-Sent Events framing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from pydantic import BaseModel

from schemas.request import LLMRequest
from schemas.result import LLMResult
from streamgate.errors import InvalidClientRequest
from streamgate.server.status import HttpError


@dataclass(slots=True)
class Turn:
    """One answer being written: who asked for what, and how much of it is already out."""

    request: LLMRequest
    requested_model: str
    include_usage: bool = False
    created: int = field(default_factory=lambda: int(time.time()))
    sent_chars: int = 0

    @property
    def model(self) -> str:
        """The model named so far (the requested one; the result names the one that answered)."""
        return self.requested_model


class WireFormat(Protocol):
    """One HTTP API dialect: how a result, an error and a stream look in it."""

    name: str

    def request_fields(self, body: Any) -> dict[str, Any]:
        """The :class:`LLMRequest` fields of a parsed request body (no id, tenant, user)."""
        ...

    def response(self, turn: Turn, result: LLMResult) -> dict[str, Any]:
        """The body of a successful non-streamed answer."""
        ...

    def error_body(self, error: HttpError, request_id: str | None) -> dict[str, Any]:
        """The body of an error answer, with the stable code visible."""
        ...

    def stream_start(self, turn: Turn) -> list[bytes]:
        """The SSE events that open a streamed answer."""
        ...

    def stream_delta(self, turn: Turn, text: str) -> list[bytes]:
        """The SSE events of one piece of text."""
        ...

    def stream_end(self, turn: Turn, result: LLMResult) -> list[bytes]:
        """The SSE events that close a streamed answer (stop reason, usage)."""
        ...

    def stream_error(self, turn: Turn, error: HttpError) -> list[bytes]:
        """The SSE event that ends a stream with an error."""
        ...


def sse(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event (``data`` as compact JSON unless it is already ``bytes``)."""
    payload = data if isinstance(data, bytes) else orjson.dumps(data)
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + payload + b"\n\n"


def extras(result: LLMResult) -> dict[str, Any]:
    """The gateway's own facts, carried beside each format's fields (the SDKs keep unknown fields)."""
    return {
        "request_id": result.id,
        "provider": result.provider,
        "cost_usd": result.cost_usd,
        "cached": result.cached,
        "cache_hit": result.cache_hit,
        "attempts": result.attempts,
    }


def hit_max_tokens(turn: Turn, result: LLMResult) -> bool:
    """Whether the answer used its whole token allowance (the stop reason is then the length)."""
    return result.usage.output_tokens >= turn.request.max_tokens


def text_of(parts: Any, what: str) -> str:
    """The text of a message content: a string, or a list of text parts (anything else is refused)."""
    if isinstance(parts, str):
        return parts
    texts = []
    for part in parts or []:
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise InvalidClientRequest(f"{what}: only text content is supported, got a {kind!r} part")
        texts.append(part["text"])
    return "".join(texts)


def refuse_unsupported(body: BaseModel, names: tuple[str, ...]) -> None:
    """Refuse (400) a body that sets a parameter the gateway cannot honour, rather than silently dropping it."""
    extra = body.model_extra or {}
    if used := [name for name in names if extra.get(name) not in (None, False, [])]:
        raise InvalidClientRequest(f"unsupported parameter(s): {', '.join(used)}")
