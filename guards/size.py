"""Size limits: bytes on the wire, number of messages, characters of prompt."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import GuardSettings
from guards.base import PASS, Block, GuardInput, GuardStage, Verdict
from schemas.codes import ErrorCode


@dataclass(frozen=True, slots=True)
class SizeGuard:
    """Blocks requests over ``max_request_bytes``, ``max_messages`` or ``max_prompt_chars``."""

    limits: GuardSettings
    name: str = "size"
    stage: GuardStage = "admission"

    def check(self, subject: GuardInput) -> Verdict:
        """Block the first limit the request exceeds."""
        limits, request = self.limits, subject.request
        if subject.raw_size > limits.max_request_bytes:
            return _too_large("max_request_bytes", f"request is {subject.raw_size} bytes", limits.max_request_bytes)
        if len(request.messages) > limits.max_messages:
            return _too_large("max_messages", f"request has {len(request.messages)} messages", limits.max_messages)
        chars = sum(len(m.content) for m in request.messages) + len(request.system or "")
        if chars > limits.max_prompt_chars:
            return _too_large("max_prompt_chars", f"prompt is {chars} characters", limits.max_prompt_chars)
        return PASS


def _too_large(rule: str, what: str, limit: int) -> Verdict:
    return Verdict.blocking(Block(code=ErrorCode.PAYLOAD_TOO_LARGE, message=f"{what}; the limit is {limit}", rule=rule))
