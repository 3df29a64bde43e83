"""The trained classifier at run time: TF-IDF over :func:`guards.injection.features.features`, then logistic regression.

Word features and character n-grams are two TF-IDF blocks, each l2-normalised on its own (a short attack's few
telling words are not drowned by its hundreds of character n-grams). A text is scored as a whole and segment by
segment (:func:`guards.injection.features.features_by_segment`); its score is the higher of the two, a segment's
logit first lowered by :data:`SEGMENT_PENALTY`: one sentence is less evidence than a whole prompt, and ordinary
sentences alone ("if anything is unclear you can write to me at any time") reach scores a whole prompt rarely
does.

The artefact is gzip-compressed JSON (no pickle): the vocabulary, each feature's idf and weight, the intercept and
the threshold calibrated on validation data. It is built by ``streamgate guards train`` and committed, so a fresh
clone scores without training; scoring needs numpy (:mod:`guards.injection.vectorized`).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from guards.injection.artefact import read_document, write_document
from guards.injection.features import edge_pieces, features_by_segment, is_word_feature, segment_features, segments
from guards.injection.vectorized import VectorScorer

FORMAT = "streamgate.injection.tfidf-lr"
FORMAT_VERSION = 3  # 2: binary term frequency; 3: word and character blocks normalised apart, segments
DEFAULT_MODEL = Path(__file__).with_name("model.json.gz")
# Logit subtracted from a segment's score: at the ~0.7 threshold a segment alone must reach ~0.9.
SEGMENT_PENALTY = 1.4


class Weights(Mapping[str, tuple[float, float]]):
    """``feature -> (idf, coefficient)`` kept as the artefact lays it out: the names sorted, the two figures in
    parallel arrays of doubles; a lookup is a binary search. A dict of tuples of floats held ~25 MB more for the
    committed model's 150k features, which only saving and training read (scoring uses the arrays of
    :mod:`guards.injection.vectorized`)."""

    __slots__ = ("_coef", "_idf", "_names")

    def __init__(self, names: Sequence[str], idf: Sequence[float], coef: Sequence[float]) -> None:
        if len(names) != len(idf) or len(names) != len(coef):
            raise ValueError("names, idf and coef differ in length")
        if any(a >= b for a, b in pairwise(names)):  # not the artefact's order: sort (the last repeat wins)
            merged = dict(zip(names, zip(idf, coef, strict=True), strict=True))
            names = sorted(merged)
            idf, coef = [merged[n][0] for n in names], [merged[n][1] for n in names]
        self._names = list(names)
        self._idf = array("d", idf)
        self._coef = array("d", coef)

    def __getitem__(self, name: str) -> tuple[float, float]:
        at = bisect_left(self._names, name)
        if at == len(self._names) or self._names[at] != name:
            raise KeyError(name)
        return self._idf[at], self._coef[at]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def triples(self) -> Iterator[tuple[str, float, float]]:
        """``(name, idf, coefficient)`` in name order, without a lookup per name."""
        return zip(self._names, self._idf, self._coef, strict=True)


def _triples(weights: Mapping[str, tuple[float, float]]) -> Iterator[tuple[str, float, float]]:
    if isinstance(weights, Weights):
        return weights.triples()
    return ((name, idf, coef) for name, (idf, coef) in weights.items())


@dataclass(frozen=True)
class InjectionModel:
    """A linear model over binary, l2-normalised TF-IDF features."""

    weights: Mapping[str, tuple[float, float]]  # feature -> (idf, coefficient); :class:`Weights` when loaded
    intercept: float
    threshold: float
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        words, chars = self._value_blocks()
        vector = VectorScorer.build(words, chars, self.intercept)
        object.__setattr__(self, "_vector", vector)
        # The reference scorer's dicts (~15 MB for the committed model) are kept only when it is the scorer;
        # otherwise they are built again if :meth:`reference_scores` is called (tests compare the two).
        object.__setattr__(self, "_blocks", (words, chars) if vector is None else None)

    def _value_blocks(self) -> tuple[dict[str, complex], dict[str, complex]]:
        # Binary term frequency: a feature's value is its idf, so each block's l2-normalised dot product needs only
        # the sums of idf*coef and idf^2 over the features present. Both are precomputed as one complex number per
        # feature (real: idf*coef, imaginary: idf^2), so one C-level sum(map(...)) gives both at once.
        words: dict[str, complex] = {}
        chars: dict[str, complex] = {}
        for name, idf, coef in _triples(self.weights):
            (words if is_word_feature(name) else chars)[name] = complex(idf * coef, idf * idf)
        return words, chars

    def _logit(self, found: tuple[set[str], set[str]]) -> float:
        # One dict lookup per feature present (unknown ones give None and are filtered out), summed in C.
        blocks: tuple[dict[str, complex], dict[str, complex]] | None = self._blocks  # type: ignore[attr-defined]
        if blocks is None:
            blocks = self._value_blocks()
            object.__setattr__(self, "_blocks", blocks)
        z = self.intercept
        for present, values in zip(found, blocks, strict=True):
            total = sum(filter(None, map(values.get, present)))
            if total:
                z += total.real / math.sqrt(total.imag)
        return z

    def scores(self, text: str) -> tuple[float, float]:
        """``(whole text, best segment)`` probabilities that ``text`` is an injection or a jailbreak (the segment's
        after :data:`SEGMENT_PENALTY`; a text of one segment and no short first or last piece gets its whole score
        twice). The pieces are the segments and :func:`guards.injection.features.edge_pieces`. Computed with numpy
        (:mod:`guards.injection.vectorized`): the same figures as :meth:`reference_scores` (to ~1e-15)."""
        vector: VectorScorer | None = self._vector  # type: ignore[attr-defined]
        if vector is None:
            return self.reference_scores(text)
        segmented = segments(text)
        parts = segmented or [""]
        edges = edge_pieces(text, segmented)
        whole, each = vector.logits([*parts, *edges], union=len(parts))
        # One segment: the best piece is an edge piece (the segment is the whole text); several: any piece.
        pieces = each[1:] if len(parts) == 1 else each
        if not pieces:
            return _sigmoid(whole), _sigmoid(whole)
        return _sigmoid(whole), _sigmoid(max(pieces) - SEGMENT_PENALTY)

    def reference_scores(self, text: str) -> tuple[float, float]:
        """:meth:`scores` with Python sets and dict lookups over :func:`features_by_segment`: the definition the
        numpy scorer is tested against (and used when the vocabulary does not fit it)."""
        parts = features_by_segment(text)
        pieces = [segment_features(piece) for piece in edge_pieces(text)]
        if len(parts) == 1:
            whole = self._logit(parts[0])
        else:
            pieces.extend(parts)
            whole = self._logit((set().union(*(p[0] for p in parts)), set().union(*(p[1] for p in parts))))
        if not pieces:
            return _sigmoid(whole), _sigmoid(whole)
        return _sigmoid(whole), _sigmoid(max(map(self._logit, pieces)) - SEGMENT_PENALTY)

    def score(self, text: str) -> float:
        """The probability that ``text`` is an injection or a jailbreak: the whole text's or its worst segment's."""
        return max(self.scores(text))

    def to_document(self) -> dict[str, Any]:
        """The JSON document :meth:`load` reads back."""
        names = sorted(self.weights)
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "info": self.info,
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 6),
            "features": names,
            "idf": [round(self.weights[n][0], 6) for n in names],
            "coef": [round(self.weights[n][1], 6) for n in names],
        }

    def save(self, path: Path) -> None:
        """Write the artefact (deterministic bytes: no timestamp in the gzip header)."""
        write_document(path, self.to_document())

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> InjectionModel:
        """Read an artefact written by :meth:`save`; refuses other formats and versions."""
        document = read_document(path, "injection model")
        if document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
            raise ConfigError(f"{path} is not a {FORMAT} v{FORMAT_VERSION} artefact")
        try:
            weights = Weights(document["features"], document["idf"], document["coef"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"cannot read the injection model {path}: {exc}") from None
        return cls(weights, float(document["intercept"]), float(document["threshold"]), dict(document["info"]))


def _sigmoid(z: float) -> float:
    if z < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))
