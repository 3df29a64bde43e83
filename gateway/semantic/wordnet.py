"""Antonyms and synonyms from WordNet 3.0 (Princeton; licence in ``gateway/semantic/NOTICE``) for the verifier.

Two tables, one line per word (the word, then its opposites or synonyms), built offline from the WordNet database
files by :mod:`gateway.semantic.wordnet_build`; nothing is downloaded:

- ``wordnet_opposites.txt.gz`` (~8,500 words, 72 KB) widens the hand-made antonym list to words no one listed
  ("improve" / "worsen", "strengthen" / "weaken", "cheap" / "expensive");
- ``wordnet_synonyms.txt.gz`` (~38,000 words, 365 KB): synonyms in a frequent sense of both words ("store" /
  "shop", "purchase" / "buy", "closed" / "shut"), so a repeat with one word swapped for its synonym is a repeat.

Loaded on first use: only workers with semantic caching on read them (~0.2 s and ~8 MB, once).
"""

from __future__ import annotations

import gzip
import sys
from functools import cache
from pathlib import Path

OPPOSITES = Path(__file__).with_name("wordnet_opposites.txt.gz")
SYNONYMS = Path(__file__).with_name("wordnet_synonyms.txt.gz")


@cache
def _table(path: Path) -> dict[str, tuple[str, ...]]:
    # Tuples of interned words, not frozensets: 8 MB for both tables instead of 21 MB (callers intersect sets).
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = (line.split() for line in lines)
        return {sys.intern(word): tuple(map(sys.intern, rest)) for word, *rest in rows if rest}


def opposites(word: str) -> tuple[str, ...]:
    """The words WordNet gives as opposites of ``word`` (a lemma, lowercase); empty when it knows none."""
    return _table(OPPOSITES).get(word, ())


def synonyms(word: str) -> tuple[str, ...]:
    """The words that share a frequent sense with ``word`` (a lemma, lowercase); empty when it knows none."""
    return _table(SYNONYMS).get(word, ())


def load() -> None:
    """Read both tables now (~0.2 s), so the first lookup does not pay for it."""
    _table(OPPOSITES), _table(SYNONYMS)
