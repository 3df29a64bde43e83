"""Screen: size limits and guardrails on the request itself (limits and budgets are applied by the ledger)."""

from __future__ import annotations

from gateway.settings import GuardSettings
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo


def check_size(request: LLMRequest, raw_size: int, limits: GuardSettings) -> ErrorInfo | None:
    """Reject requests over the byte, message-count or prompt-length limits; ``None`` when within them."""
    if raw_size > limits.max_request_bytes:
        return ErrorInfo(
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            message=f"request is {raw_size} bytes; the limit is {limits.max_request_bytes}",
            limit="max_request_bytes",
        )
    if len(request.messages) > limits.max_messages:
        return ErrorInfo(
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            message=f"request has {len(request.messages)} messages; the limit is {limits.max_messages}",
            limit="max_messages",
        )
    chars = sum(len(m.content) for m in request.messages) + len(request.system or "")
    if chars > limits.max_prompt_chars:
        return ErrorInfo(
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            message=f"prompt is {chars} characters; the limit is {limits.max_prompt_chars}",
            limit="max_prompt_chars",
        )
    return None


def check_deadline(request: LLMRequest, now_ms: int) -> ErrorInfo | None:
    """A request whose deadline has passed is answered without calling any provider."""
    if request.deadline_ms is not None and now_ms >= request.deadline_ms:
        return ErrorInfo(
            code=ErrorCode.DEADLINE_EXCEEDED,
            message=f"deadline {request.deadline_ms} passed {now_ms - request.deadline_ms} ms before screening",
        )
    return None
