"""Dead letters and the answer a client still gets when its event was unusable."""

from __future__ import annotations

import base64
import time
from typing import Any

from agents.intake import InvalidEvent
from schemas.codes import ErrorCode
from schemas.dead_letter import DeadLetter
from schemas.result import ErrorInfo, LLMResult


def dead_letter(message: Any, reason: str, detail: str) -> bytes:
    """The ``llm.dlq`` value for a Faust message: its raw bytes (base64), where it came from, and why."""
    value = message.value if isinstance(message.value, bytes | bytearray) else b""
    key = message.key if isinstance(message.key, bytes | bytearray) else None
    letter = DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        raw_b64=base64.b64encode(value).decode(),
        reason=reason,
        detail=detail[:2000],
        ts_ms=int(time.time() * 1000),
    )
    return letter.model_dump_json().encode()


def rejection_for_invalid(bad: InvalidEvent) -> tuple[bytes, bytes] | None:
    """``(key, value)`` of an ``invalid_request`` result when the bad event still names its id, else ``None``."""
    if bad.request_id is None:
        return None
    result = LLMResult(
        id=bad.request_id,
        status="rejected",
        error=ErrorInfo(code=ErrorCode.INVALID_REQUEST, message=f"{bad.reason}: {bad.detail}"),
    )
    return bad.request_id.encode(), result.model_dump_json().encode()
