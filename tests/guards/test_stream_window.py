"""The streamed-output PII window: a value split across pieces never leaks, and the redacted stream equals the
whole-answer redaction."""

from __future__ import annotations

import random
import re
from functools import partial

import pytest

from gateway.guard_policy import GuardPolicy
from guards.base import GuardInput
from guards.pii.recognizers import default_recognizers, find_entities
from guards.pii.redact import replace
from guards.pii.stream_window import RedactionWindow
from guards.pii_guard import PiiOutputGuard
from tests.support.factories import make_request

RECOGNIZERS = default_recognizers()
FIND = partial(find_entities, recognizers=RECOGNIZERS)
FILLER = "Thanks for waiting, here is what we found in the records for you today. "

VALUES = {
    "card": "4111 1111 1111 1111",
    "phone": "+1 415 555 0132",
    "email": "jane.doe@example.com",
    "iban": "DE89 3704 0044 0532 0130 00",
    "openai_key": "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 6,
    "private_key": "-----BEGIN PRIVATE KEY-----\n"
    + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n" * 8
    + "-----END PRIVATE KEY-----",
}


def _stream(text: str, sizes: list[int], *, window: int = 64, block: bool = False) -> tuple[list[str], RedactionWindow]:
    stream = RedactionWindow(FIND, window=window, block=block)
    pieces, at = [], 0
    for size in sizes:
        pieces.append(stream.feed(text[at : at + size]))
        at += size
    pieces.append(stream.feed(text[at:]))
    pieces.append(stream.close())
    return [p for p in pieces if p], stream


def _splits(text: str, seed: int) -> list[int]:
    rng = random.Random(seed)
    sizes, total = [], 0
    while total < len(text):
        size = rng.choice([1, 2, 3, 5, 8, 13])
        sizes.append(size)
        total += size
    return sizes


@pytest.mark.parametrize("name", sorted(VALUES))
@pytest.mark.parametrize("seed", range(6))
def test_a_value_split_across_pieces_never_appears_in_any_piece(name: str, seed: int) -> None:
    value = VALUES[name]
    text = FILLER * 2 + f"Your value is {value} as requested. " + FILLER * 3
    pieces, stream = _stream(text, _splits(text, seed))
    joined = "".join(pieces)
    assert joined == replace(text, FIND(text), None)  # the same as redacting the whole answer
    assert value not in joined
    bare = [re.sub(r"<[A-Z_]+>", "", piece) for piece in pieces]  # a placeholder names the type: not a leak
    for fragment in {part for part in value.replace("\n", " ").split(" ") if len(part) >= 4}:
        assert all(fragment not in piece for piece in bare), f"{fragment!r} leaked"
    assert sum(stream.entities.values()) == 1


def test_text_is_released_before_the_answer_ends() -> None:
    text = FILLER * 6
    stream = RedactionWindow(FIND, window=64, block=False)
    early = "".join(stream.feed(text[i : i + 10]) for i in range(0, len(text), 10))
    assert len(early) >= len(text) - 2 * 64 - 16  # held back: at most the window, the scan step and a word
    first = RedactionWindow(FIND, window=64, block=False)
    assert first.feed(text[:79]) == "" and first.feed(text[79:81]) != ""  # the first text after 1.25 windows
    assert early + stream.close() == text


def test_under_block_the_first_value_stops_the_stream() -> None:
    text = FILLER * 2 + "Call +1 415 555 0132 now. " + FILLER * 4
    pieces, stream = _stream(text, [7] * (len(text) // 7), block=True)
    joined = "".join(pieces)
    assert stream.blocked
    assert "415" not in joined and len(joined) < len(FILLER) * 2 + len("Call ") + 1  # nothing after the value
    assert text.startswith(joined)
    assert stream.entities["PHONE_NUMBER"] == 1


def test_the_guard_opens_windows_per_policy() -> None:
    guard = PiiOutputGuard(recognizers=RECOGNIZERS, stream_window=32)
    passing = guard.open_stream(GuardPolicy(pii_output="allow"))
    assert passing.feed("mail jane.doe@example.com") == "mail jane.doe@example.com"
    redacting = guard.open_stream(GuardPolicy())
    out = redacting.feed("Write to jane.doe@example.com please, ") + redacting.close()
    assert out == "Write to <EMAIL_ADDRESS> please, "
    assert redacting.verdict().entities == {"EMAIL_ADDRESS": 1} and redacting.verdict().action == "redact"
    blocking = guard.open_stream(GuardPolicy(pii_output="block"))
    assert blocking.feed("Write to jane.doe@example.com please, ") + blocking.close() == ""
    assert blocking.blocked and blocking.verdict().block is not None


def test_a_whole_answer_with_pii_is_blocked_under_block() -> None:
    guard = PiiOutputGuard(recognizers=RECOGNIZERS)
    subject = GuardInput(make_request(), 0, GuardPolicy(pii_output="block"), output="Mail jane.doe@example.com")
    verdict = guard.check(subject)
    assert verdict.action == "block" and verdict.block is not None
    assert verdict.block.rule == "pii_output" and verdict.entities == {"EMAIL_ADDRESS": 1}
