"""US phone numbers and SSNs by their written shape, including the ones the validating recognizers let through.

libphonenumber rejects numbers it knows are unassigned (the fictional ``555`` exchange and area codes such as
``(555) 123-4567``), and Presidio's SSN recognizer drops the published sample SSNs (``123-45-6789``,
``078-05-1120``). Both are right for finding real numbers in documents and wrong for a gateway whose job is that
nothing shaped like a phone number or an SSN reaches a provider: a prompt's test data, a form template and a
user's typo look exactly like these. The shapes below are strict (separators that agree, the NANP 3-3-4 grouping,
no letters, ``#``, ``$`` or another number run joined on either side), so order ids, versions, prices and dates
are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

# A character that, touching a digit run, makes it part of an identifier, a price, a version or a longer number.
_JOINED = r"[\w#$.,/\-+:]"
# (555) 123-4567, (555)123-4567, +1 (555) 123 4567; 555-123-4567, 555.123.4567, 555 123 4567, +1-555-123-4567
# (one separator throughout the last two groups). Python's own engine: several times faster here than ``regex``.
NANP_PHONE = re.compile(
    rf"(?<!{_JOINED})(?:\+?1[ .\-]?)?"
    r"(?:\([2-9]\d\d\)[ .\-]?\d{3}[ .\-]|[2-9]\d\d(?:-\d{3}-|\.\d{3}\.| \d{3} ))"
    rf"\d{{4}}(?!{_JOINED}\d|\w)"
)
_SSN_WORDS = re.compile(r"(?i)\b(?:ssns?|social security)\b")
_SSN_CONTEXT = 40
_CONTEXT_SCORE = 0.6
# The samples Presidio 2.2 drops (its ``invalidate_result``), which pass every other check it makes.
_SAMPLE_SSNS = frozenset({"123456789", "987654320", "078051120"})


class NanpPhoneShapeRecognizer(EntityRecognizer):
    """North American numbers written in the 3-3-4 grouping, whether or not the number is assigned."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="NanpPhoneShapeRecognizer")

    def load(self) -> None:
        """Nothing to load: one regex."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Each 3-3-4 number in ``text``."""
        return [RecognizerResult("PHONE_NUMBER", m.start(), m.end(), 0.6) for m in NANP_PHONE.finditer(text)]


class SsnShapeRecognizer(UsSsnRecognizer):
    """Presidio's SSN recognizer without its list of published sample numbers, and with its context words applied.

    Its other checks stay: mismatched separators, one digit repeated, an all-zero group, the 000 and 666 areas.
    Presidio scores an unseparated ``536228741`` 0.05 and leaves raising it to a context enhancer that needs an NLP
    model; here a "ssn" or "social security" in the ``_SSN_CONTEXT`` characters before the number raises it.
    """

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Presidio's findings, the weak ones raised where an SSN context word precedes them."""
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            if result.score < _CONTEXT_SCORE and _SSN_WORDS.search(
                text, max(0, result.start - _SSN_CONTEXT), result.start
            ):
                result.score = _CONTEXT_SCORE
        return results

    def invalidate_result(self, pattern_text: str) -> bool:
        """Whether ``pattern_text`` cannot be an SSN; the sample numbers count as SSNs here."""
        digits = "".join(c for c in pattern_text if c.isdigit())
        if digits in _SAMPLE_SSNS:
            return len({c for c in pattern_text if c in ".- "}) > 1  # the one other check they would fail
        return bool(super().invalidate_result(pattern_text))
