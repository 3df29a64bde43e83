"""Lemmas of English words from ``lemminflect`` (MIT; lookup tables built from the NIH SPECIALIST lexicon, shipped
in the wheel, nothing downloaded): "charging" and "charge", "withdrawals" and "withdrawal", "Sundays" and "Sunday"
compare equal. Words it does not know get its out-of-vocabulary rules; British spellings also count as their
American ones ("recognise" / "recognize").
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=32768)
def lemma_keys(word: str) -> frozenset[str]:
    """The word and every lemma it may have (two words match when their keys meet)."""
    import lemminflect  # imported on first use: only workers with semantic caching on load its tables

    found: set[str] = set()
    for spelling in {word, american(word)}:
        found.add(spelling)
        known = lemminflect.getAllLemmas(spelling)
        if not known:
            known = {**lemminflect.getAllLemmasOOV(spelling, "NOUN"), **lemminflect.getAllLemmasOOV(spelling, "VERB")}
        for forms in known.values():
            found.update(form.lower() for form in forms)
    if word.endswith("ly") and len(word) >= 7:  # "wirelessly" / "wireless"
        found.add(word[:-2])
    return frozenset(found)


_BRITISH = (
    (re.compile(r"^(.{3,})is(e|es|ed|ing|ation|ations)$"), r"\1iz\2"),  # recognise -> recognize
    (re.compile(r"^(.{2,})ys(e|es|ed|ing)$"), r"\1yz\2"),  # analyse -> analyze
    (re.compile(r"^(.{3,})our(s|ed|ing|ite|ites|able)?$"), r"\1or\2"),  # neighbour -> neighbor, not "four"
    (re.compile(r"^(.{2,})tre(s)?$"), r"\1ter\2"),  # centre -> center, metre -> meter
    (re.compile(r"^(.{2,})ll(ed|ing|er|ers)$"), r"\1l\2"),  # travelled -> traveled
    (re.compile(r"^(licen|defen|offen|preten)ce(s)?$"), r"\1se\2"),  # licence -> license
    (re.compile(r"^(.{3,})ogue(s)?$"), r"\1og\2"),  # catalogue -> catalog
)


def american(word: str) -> str:
    """The American spelling of a British one ("neighbour" -> "neighbor"); other words unchanged."""
    for pattern, replacement in _BRITISH:
        changed = pattern.sub(replacement, word)
        if changed != word:
            return changed
    return word


@lru_cache(maxsize=32768)
def lemma(word: str) -> str:
    """One canonical lemma of ``word`` (the alphabetically first of its keys that is not the word, else the word)."""
    keys = sorted(lemma_keys(word) - {word})
    return keys[0] if keys else word
