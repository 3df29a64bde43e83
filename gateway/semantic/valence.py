"""Word valence (good / bad) from the VADER lexicon, for the verifier's polarity check.

A reworded trap often turns a good thing into a bad one with words that no antonym table pairs: "improve my credit
score" / "what will damage my credit rating", "is it wise to accept the offer" / "should I refuse the offer". The
VADER lexicon (``vaderSentiment`` 3.3.2 on PyPI, MIT licence) rates ~7,500 English words by human judgement from
-4 (bad) to +4 (good); the verifier refuses a pair whose words only one side has are all good and whose words only
the other side has are all bad. The lexicon file ships in the wheel and is read on first use; nothing is
downloaded and the sentiment analyser itself is never imported.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

# |valence| from which a word counts as good or bad. On VADER's -4..+4 scale 0.5 is a mild lean ("allow" 0.9,
# "legal" 0.5, "freeze" 0.2 stays neutral); the check needs a good word on one side *and* a bad one on the other,
# so a low cut only refuses pairs whose differing words point opposite ways.
MIN_VALENCE = 0.5


@cache
def _lexicon() -> dict[str, float]:
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    found: dict[str, float] = {}
    for line in text.splitlines():
        word, rating, *_ = line.split("\t")
        if word.isalpha():  # the lexicon also rates emoticons (":-)") and slang spellings
            found[word.lower()] = float(rating)
    return found


def valence(keys: frozenset[str]) -> float:
    """The strongest VADER rating among a word's spellings and lemmas (``keys``); 0.0 when none is rated."""
    lexicon = _lexicon()
    rated = [lexicon[k] for k in keys if k in lexicon]
    return max(rated, key=abs) if rated else 0.0


def leaning(keys: frozenset[str]) -> str:
    """``+`` for a word (given by its spellings and lemmas) rated good, ``-`` for one rated bad, else ``""``."""
    rating = valence(keys)
    return "+" if rating >= MIN_VALENCE else "-" if rating <= -MIN_VALENCE else ""


def load() -> None:
    """Read the lexicon now (a few ms), so the first lookup does not pay for it."""
    _lexicon()
