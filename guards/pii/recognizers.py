"""The recognizers the PII guards run, and finding entities in a text with them.

Presidio's ``AnalyzerEngine`` would load a spaCy model; its pattern recognizers run alone (``nlp_artifacts=None``).
The email recognizer's public-suffix check is pointed at tldextract's bundled snapshot: by default tldextract
downloads the list on first use. PERSON names are not detected: that needs an NER model (none installs offline
from a package we can vouch for), so names pass through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import tldextract
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
)

from guards.pii.finding import Finding
from guards.pii.screening import Recognizer, screened
from guards.pii.secrets import secret_recognizers
from guards.pii.us_shapes import NanpPhoneShapeRecognizer, SsnShapeRecognizer

# No URLs to fetch, no cache to write: the suffix list that ships inside tldextract.
_OFFLINE_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
# US national formats plus every number written in international (+CC) form; each region costs ~1 ms per KB.
PHONE_REGIONS = ("US",)
MIN_SCORE = 0.4
# Digit runs that could be a phone number; only these windows are handed to libphonenumber's (slow) matcher.
_PHONE_CANDIDATE_RE = re.compile(r"\+?\(?\d[\d\s().\-/]{5,22}\d")
_PHONE_MARGIN = 4
_INTERNATIONAL_00 = re.compile(r"00[1-9]")


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer with the public-suffix list read from the installed snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        """An address whose domain has a known public suffix."""
        return bool(_OFFLINE_SUFFIXES(pattern_text).fqdn)


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer run only on the digit runs of a text (same findings, a fraction of the cost)."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Findings of the parent recognizer in each candidate window, with offsets into ``text``."""
        results: list[RecognizerResult] = []
        for match in _PHONE_CANDIDATE_RE.finditer(text):
            if _is_identifier(text, match.start()):
                continue
            start = max(0, match.start() - _PHONE_MARGIN)
            window = text[start : match.end() + _PHONE_MARGIN]
            prefix_at = match.start() - start
            dialled_out = _INTERNATIONAL_00.match(window, prefix_at) is not None
            if dialled_out:  # 0044 ... is +44 ...: libphonenumber reads "00" only for regions that dial it
                window = f"{window[:prefix_at]} +{window[prefix_at + 2 :]}"
            for result in super().analyze(window, entities, nlp_artifacts):
                if dialled_out and result.start == prefix_at + 1:
                    result.start = prefix_at
                result.start += start
                result.end += start
                results.append(result)
        return results


def _is_identifier(text: str, at: int) -> bool:
    """Whether the digit run at ``at`` continues an identifier: ``#48213-5591-02``, ``INV-2024-0042``, ``A1-...``
    (an order, invoice or ticket number shaped like a phone number is not one)."""
    before = text[max(0, at - 2) : at]
    return bool(before) and (before[-1] == "#" or before[-1].isalnum() or (before[-1] == "-" and before[:1].isalnum()))


def default_recognizers() -> list[Recognizer]:
    """Emails, phones (libphonenumber's valid ones and any in the US 3-3-4 shape), Luhn-checked cards, US SSNs
    (the published samples too), checksummed IBANs, IPs and credentials, each screened
    (:mod:`guards.pii.screening`: patterns that cannot match a text are not run on it)."""
    return screened(
        [
            OfflineEmailRecognizer(),
            WindowedPhoneRecognizer(supported_regions=PHONE_REGIONS),
            NanpPhoneShapeRecognizer(),
            CreditCardRecognizer(),
            SsnShapeRecognizer(),
            IbanRecognizer(),
            IpRecognizer(),
            *secret_recognizers(),
        ]
    )


def find_entities(text: str, recognizers: Sequence[Recognizer | EntityRecognizer]) -> list[Finding]:
    """Non-overlapping findings in ``text``, in order; where two overlap the longer one wins."""
    found: list[Finding] = []
    for recognizer in recognizers:
        for result in recognizer.analyze(text, recognizer.supported_entities, None):  # type: ignore[arg-type]
            if result.score >= MIN_SCORE:
                found.append(Finding(result.entity_type, result.start, result.end))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for finding in found:
        if not kept or finding.start >= kept[-1].end:
            kept.append(finding)
    return kept
