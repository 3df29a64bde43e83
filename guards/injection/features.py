"""The classifier's features: the same function builds them when training and when scoring.

Word unigrams and bigrams carry the phrasing of an attack ("ignore previous", "system prompt"); character 3-5 grams
of the whole normalised text survive typos, inflections and the other languages the corpora contain. Built with
plain slicing comprehensions: this is most of the classifier's cost (~0.3 ms per KB).
"""

from __future__ import annotations

import itertools
import re
import unicodedata

_WORD_RE = re.compile(r"[a-z0-9']+")
_SPACE_RE = re.compile(r"\s+")
CHAR_SIZES = (3, 4, 5)


def normalise(text: str) -> str:
    """Compatibility-fold, lower-case and collapse whitespace (fullwidth or styled letters become plain ones)."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def features(text: str) -> set[str]:
    """The distinct n-gram features of ``text`` (not yet normalised): the model uses presence only."""
    clean = normalise(text)
    words = _WORD_RE.findall(clean)
    out = {f"w:{w}" for w in words}
    out.update([f"b:{a} {b}" for a, b in itertools.pairwise(words)])
    padded = f" {clean} "
    length = len(padded)
    for size in CHAR_SIZES:
        out.update([padded[i : i + size] for i in range(length - size + 1)])
    return out
