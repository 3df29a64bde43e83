"""Screened recognizers find exactly what Presidio's recognizers find, and each pattern's needs are inside every
match of it (so a text without them cannot match)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
import regex

from bench.guard_sets import pii as pii_set
from guards.benchmark import prompt
from guards.evaluate import read_labelled
from guards.pii.recognizers import default_recognizers, find_entities
from guards.pii.screening import NEEDS, ScreenedRecognizer, regex_key
from tests.guards.test_pii import NUMBERS_BUT_NO_PII
from tests.support.pii_samples import PLANTED, prompt_with_all

SCREENED = default_recognizers()
RAW = [r.recognizer for r in SCREENED if isinstance(r, ScreenedRecognizer)]
_EDGES = [
    "",
    "SK-PROJ-" + "A" * 30,  # the patterns are case-insensitive: so are their needs
    "\u017fk-" + "a" * 30,  # long s: folds to s under the regex engine's ignore-case
    "::",
    "::ffff:10.0.0.1 and fe80::1%eth0 and 2001:db8::8a2e:370:7334",
    " ".join(["\u0661\u0662\u0663\u0664", "\u0665\u0666\u0667\u0668", "\u0669\u0660\u0661\u0662"]),  # Arabic digits
    "de89 3704 0044 0532 0130 00 and DE89370400440532013000",
    "-----begin private key-----\nabc\n-----end private key-----",
    "AWS_SECRET_ACCESS_KEY=" + "a" * 40,
]


def _texts() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pii.jsonl"
        pii_set.build(path)
        texts = [text for text, _ in read_labelled(path)]
    rng = random.Random(13)
    texts += [prompt(rng) for _ in range(300)]
    texts += [f"Here it is: {value} - thanks" for value in PLANTED.values()]
    texts += [prompt_with_all(), *NUMBERS_BUT_NO_PII, *_EDGES]
    return texts


TEXTS = _texts()


def test_every_default_pattern_but_the_phone_matcher_is_screened() -> None:
    patterns = [p for r in RAW for p in getattr(r, "patterns", None) or []]
    assert len(patterns) >= 20
    assert all(regex_key(p.regex) in NEEDS for p in patterns), [
        p.name for p in patterns if regex_key(p.regex) not in NEEDS
    ]


def test_screened_recognizers_give_presidios_results() -> None:
    assert len(TEXTS) > 1000
    for text in TEXTS:
        for screened, raw in zip(SCREENED, RAW, strict=True):
            mine = screened.analyze(text, screened.supported_entities, None)
            theirs = raw.analyze(text, raw.supported_entities, None)  # type: ignore[arg-type]
            assert [(r.entity_type, r.start, r.end, r.score) for r in mine] == [
                (r.entity_type, r.start, r.end, r.score) for r in theirs
            ], (raw.supported_entities, text)
        assert find_entities(text, SCREENED) == find_entities(text, RAW)


def test_each_patterns_needs_are_inside_every_match_of_it() -> None:
    checked = 0
    for raw in RAW:
        flags = getattr(raw, "global_regex_flags", 0)
        for pattern in getattr(raw, "patterns", None) or []:
            compiled, need = regex.compile(pattern.regex, flags), regex.compile(NEEDS[regex_key(pattern.regex)], flags)
            for text in TEXTS:
                for match in compiled.finditer(text):
                    if match.group():
                        assert need.search(match.group()), (pattern.name, match.group())
                        checked += 1
    assert checked > 500


@pytest.mark.parametrize("text", ["no digits, no at sign, nothing here", "order 12345 costs 9.99"])
def test_a_text_without_the_needs_skips_the_patterns(text: str) -> None:
    email = next(r for r in SCREENED if r.supported_entities == ["EMAIL_ADDRESS"])
    assert isinstance(email, ScreenedRecognizer)
    email.recognizer.analyze = None  # type: ignore[method-assign, assignment]  # would fail if it were called
    try:
        assert email.analyze(text, email.supported_entities) == []
    finally:
        del email.recognizer.analyze
