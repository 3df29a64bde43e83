"""Dead letters keep the bad event byte for byte; a bad event that still names its id gets a rejection."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from agents.intake import InvalidEvent
from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.dead_letter import DeadLetter
from schemas.result import LLMResult
from streams.runtime.dead_letters import MAX_KEY_BYTES, dead_letter, rejection_for_invalid

LIMIT = Settings().max_dead_letter_bytes


@dataclass
class FakeMessage:
    """The fields of a Faust message that a dead letter records."""

    value: bytes | None
    key: bytes | None = None
    topic: str = "llm.requests"
    partition: int = 3
    offset: int = 1234


def test_a_dead_letter_keeps_the_raw_bytes_key_origin_and_reason() -> None:
    raw = b"\xff\x00 not json at all"
    before = int(time.time() * 1000)
    letter = DeadLetter.model_validate_json(
        dead_letter(FakeMessage(raw, key=b"k\x01"), "not_json", "bad byte", max_raw_bytes=LIMIT)
    )
    assert letter.raw() == raw
    assert letter.key_b64 is not None and base64.b64decode(letter.key_b64) == b"k\x01"
    assert (letter.topic, letter.partition, letter.offset) == ("llm.requests", 3, 1234)
    assert (letter.reason, letter.detail) == ("not_json", "bad byte")
    assert before <= letter.ts_ms <= int(time.time() * 1000)


def test_a_dead_letter_of_an_empty_event_has_no_key_and_empty_raw() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(None), "empty", "no value", max_raw_bytes=LIMIT))
    assert letter.key_b64 is None and letter.raw() == b""


def test_a_dead_letter_truncates_a_long_detail() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(b"x"), "schema", "e" * 5_000, max_raw_bytes=LIMIT))
    assert letter.detail == "e" * 2_000


def test_a_bad_event_naming_its_id_gets_an_invalid_request_rejection() -> None:
    answer = rejection_for_invalid(InvalidEvent("schema", "messages: Field required", request_id="req-9"))
    assert answer is not None
    key, value = answer
    result = LLMResult.model_validate_json(value)
    assert key == b"req-9" and result.id == "req-9" and result.status == "rejected"
    assert result.error is not None and result.error.code is ErrorCode.INVALID_REQUEST
    assert result.error.message == "schema: messages: Field required"
    assert result.output is None and result.attempts == 0


def test_a_bad_event_without_an_id_gets_no_answer() -> None:
    assert rejection_for_invalid(InvalidEvent("not_json", "value is not JSON")) is None


def test_the_dead_letter_of_a_3_mb_event_fits_and_keeps_its_size_and_digest() -> None:
    raw = b'{"metadata": "' + b"m" * (3 * 1024 * 1024) + b'"}'
    settings = Settings()
    encoded = dead_letter(FakeMessage(raw, key=b"k" * (MAX_KEY_BYTES + 1)), "internal", "boom", max_raw_bytes=LIMIT)
    assert len(encoded) < settings.producer_max_request_size - 64 * 1024
    letter = DeadLetter.model_validate_json(encoded)
    assert letter.truncated and letter.raw() == raw[:LIMIT]
    assert letter.raw_size == len(raw) and letter.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert letter.key_b64 is None  # a key that long is left out


def test_a_small_event_is_kept_whole_and_not_marked_truncated() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(b"abc"), "not_json", "x", max_raw_bytes=3))
    assert not letter.truncated and letter.raw() == b"abc" and letter.raw_size == 3


def test_a_minimal_dead_letter_keeps_no_bytes_but_the_size_and_digest() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(b"abcd"), "undeliverable", "x", max_raw_bytes=0))
    assert letter.truncated and letter.raw() == b"" and letter.raw_size == 4
    assert letter.raw_sha256 == hashlib.sha256(b"abcd").hexdigest()


def test_a_too_large_request_is_rejected_with_its_code_and_limit() -> None:
    bad = InvalidEvent(
        "too_large", "metadata is 9 bytes", request_id="r", code=ErrorCode.PAYLOAD_TOO_LARGE, limit="intake.m"
    )
    answer = rejection_for_invalid(bad)
    assert answer is not None
    result = LLMResult.model_validate_json(answer[1])
    assert result.error is not None and result.error.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert result.error.limit == "intake.m" and result.metadata == {}
