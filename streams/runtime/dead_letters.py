"""Dead letters and the answer a client still gets when its event was unusable."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from agents.intake import InvalidEvent
from schemas.dead_letter import DeadLetter
from schemas.result import ErrorInfo, LLMResult

MAX_KEY_BYTES = 1024
"""A longer key is left out of the dead letter (Kafka keys are short; a huge one is part of the fault)."""


def dead_letter(message: Any, reason: str, detail: str, *, max_raw_bytes: int) -> bytes:
    """The ``llm.dlq`` value for a Faust message: its raw bytes (base64, at most ``max_raw_bytes`` of them, with the
    whole value's size and SHA-256), where it came from, and why. Its size is bounded whatever the event was."""
    value = bytes(message.value) if isinstance(message.value, bytes | bytearray) else b""
    key = message.key if isinstance(message.key, bytes | bytearray) else None
    if key is not None and len(key) > MAX_KEY_BYTES:
        key = None
    kept = value[: max(0, max_raw_bytes)]
    letter = DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        raw_b64=base64.b64encode(kept).decode(),
        raw_size=len(value),
        raw_sha256=hashlib.sha256(value).hexdigest(),
        truncated=len(kept) < len(value),
        reason=reason,
        detail=detail[:2000],
        ts_ms=int(time.time() * 1000),
    )
    return letter.model_dump_json().encode()


def rejection_for_invalid(bad: InvalidEvent) -> tuple[bytes, bytes] | None:
    """``(key, value)`` of a rejection (``invalid_request`` or the bad event's own code) when the bad event still
    names its id, else ``None``."""
    if bad.request_id is None:
        return None
    result = LLMResult(
        id=bad.request_id,
        status="rejected",
        error=ErrorInfo(code=bad.code, message=f"{bad.reason}: {bad.detail}", limit=bad.limit),
    )
    return bad.request_id.encode(), result.model_dump_json().encode()
