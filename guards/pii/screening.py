"""Skipping recognizer patterns that cannot match a text: the same findings for a fraction of the scans.

Every match of a pattern contains some short text its regex demands: an email an ``@``, a card four digits in a
row, every IPv6 form a ``:``, an OpenAI key ``sk-``. :data:`NEEDS` maps each pattern's regex (by a hash of its
text, so a changed pattern, after an upgrade or an edit, is never screened by what its old form needed) to that
text as a small regex. Before a recognizer runs, each of its patterns' needs is searched in the text, with the
same engine (``regex``) and flags as the recognizer's own patterns; the recognizer then runs with only the patterns
whose needs were found (a shallow copy holding that subset, in the original order), or not at all. A pattern whose
needs are absent has no match, so it would have added nothing to the recognizer's results before Presidio's
de-duplication: the findings are the same, spans, types and scores (``tests/guards/test_pii_screening.py`` checks
it on the PII eval set and on every need being inside every match). A pattern without an entry always runs.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from guards.pii.secrets import SECRET_NEEDS, SECRET_PATTERNS


def regex_key(pattern: str) -> str:
    """The key of a pattern's regex in :data:`NEEDS`: the first 12 hex digits of its text's SHA-256."""
    return hashlib.sha256(pattern.encode()).hexdigest()[:12]


# Presidio 2.2's patterns (their names in comments); each need is a piece every match of the regex contains.
NEEDS: dict[str, str] = {
    "004723abbb67": "@",  # Email (Medium): local part, [@], domain
    "f619fa242c93": r"\d{4}",  # All Credit Cards (weak): starts with (4\d{3})|(5[0-5]\d{2})|(6\d{3})|...
    "17f1d935dc2f": r"[0-9]{5}-",  # SSN1: ([0-9]{5})-([0-9]{4})
    "75527eba5955": r"[0-9]{3}-[0-9]",  # SSN2: ([0-9]{3})-([0-9]{6})
    "213ac080713c": r"[0-9]{3}-[0-9]{2}-",  # SSN3: ([0-9]{3})-([0-9]{2})-([0-9]{4})
    "4e6bd6618bc9": r"[0-9]{9}",  # SSN4: [0-9]{9}
    "f2721d631f61": r"[0-9]{3}[- .][0-9]{2}[- .]",  # SSN5: ([0-9]{3})[- .]([0-9]{2})[- .]([0-9]{4})
    "1f98697e78e0": r"[A-Z]{2}[0-9]{2}",  # IBAN Generic: [A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2,6}...
    "5def597d3b4d": "::",  # IPv4_mapped: ::(?:ffff...:)?a.b.c.d
    "66197b1f8e63": ":",  # IPv4_embedded: hex groups with colons, then a.b.c.d
    "ae1e66dfc546": r"[0-9]\.[0-9]",  # IPv4: each octet ends and begins with a digit around the dot
    "c4f79b73053c": ":",  # IPv6: every alternative has a colon
    "c696285024ae": "::",  # IPv6_unspecified
    **{
        regex_key(pattern): need
        for entity, patterns in SECRET_PATTERNS.items()
        for pattern, need in zip(patterns, SECRET_NEEDS[entity], strict=True)
    },
}


class Recognizer(Protocol):
    """What :func:`guards.pii.recognizers.find_entities` calls: a Presidio recognizer, or one screened."""

    @property
    def supported_entities(self) -> list[str]:
        """The entity types it finds."""
        ...

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Its findings in ``text``."""
        ...


class ScreenedRecognizer:
    """A Presidio recognizer run with only the patterns whose needs are in the text (see the module docstring)."""

    def __init__(self, recognizer: EntityRecognizer) -> None:
        self.recognizer = recognizer
        patterns = list(getattr(recognizer, "patterns", None) or [])
        flags = getattr(recognizer, "global_regex_flags", 0)
        needs = [NEEDS.get(regex_key(p.regex)) for p in patterns]
        self._needs = tuple(regex.compile(n, flags) if n is not None else None for n in needs)
        self._variants: dict[tuple[int, ...], EntityRecognizer] = {}

    @property
    def supported_entities(self) -> list[str]:
        """The wrapped recognizer's entity types."""
        entities: list[str] = self.recognizer.supported_entities
        return entities

    @property
    def screened(self) -> bool:
        """Whether any of its patterns is screened (else it always runs whole)."""
        return any(need is not None for need in self._needs)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """The wrapped recognizer's findings: it runs with the patterns whose needs ``text`` holds."""
        if not self.screened:
            results: list[RecognizerResult] = self.recognizer.analyze(text, entities, nlp_artifacts)
            return results
        keep = tuple(i for i, need in enumerate(self._needs) if need is None or need.search(text))
        if not keep:
            return []
        runner = self.recognizer if len(keep) == len(self._needs) else self._variant(keep)
        found: list[RecognizerResult] = runner.analyze(text, entities, nlp_artifacts)
        return found

    def _variant(self, keep: tuple[int, ...]) -> EntityRecognizer:
        variant = self._variants.get(keep)
        if variant is None:
            variant = copy.copy(self.recognizer)
            variant.patterns = [self.recognizer.patterns[i] for i in keep]  # type: ignore[attr-defined]
            self._variants[keep] = variant
        return variant


def screened(recognizers: Sequence[EntityRecognizer]) -> list[Recognizer]:
    """Each recognizer behind its screen."""
    return [ScreenedRecognizer(r) for r in recognizers]
