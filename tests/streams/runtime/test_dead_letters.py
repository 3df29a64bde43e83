"""Dead letters keep the bad event byte for byte; a bad event that still names its id gets a rejection."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from agents.intake import InvalidEvent
from schemas.codes import ErrorCode
from schemas.dead_letter import DeadLetter
from schemas.result import LLMResult
from streams.runtime.dead_letters import dead_letter, rejection_for_invalid


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
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(raw, key=b"k\x01"), "not_json", "bad byte"))
    assert letter.raw() == raw
    assert letter.key_b64 is not None and base64.b64decode(letter.key_b64) == b"k\x01"
    assert (letter.topic, letter.partition, letter.offset) == ("llm.requests", 3, 1234)
    assert (letter.reason, letter.detail) == ("not_json", "bad byte")
    assert before <= letter.ts_ms <= int(time.time() * 1000)


def test_a_dead_letter_of_an_empty_event_has_no_key_and_empty_raw() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(None), "empty", "no value"))
    assert letter.key_b64 is None and letter.raw() == b""


def test_a_dead_letter_truncates_a_long_detail() -> None:
    letter = DeadLetter.model_validate_json(dead_letter(FakeMessage(b"x"), "schema", "e" * 5_000))
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
