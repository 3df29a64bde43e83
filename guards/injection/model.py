"""The trained classifier at run time: TF-IDF over :func:`guards.injection.features.features`, then logistic regression.

The artefact is gzip-compressed JSON (no pickle): the vocabulary, each feature's idf and weight, the intercept and
the threshold calibrated on validation data. It is built by ``streamgate guards train`` and committed, so a fresh
clone scores without training; scoring needs nothing beyond the standard library.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from guards.injection.features import features

FORMAT = "streamgate.injection.tfidf-lr"
FORMAT_VERSION = 2  # 2: binary term frequency
DEFAULT_MODEL = Path(__file__).with_name("model.json.gz")


@dataclass(frozen=True)
class InjectionModel:
    """A linear model over binary, l2-normalised TF-IDF features."""

    weights: dict[str, tuple[float, float]]  # feature -> (idf, coefficient)
    intercept: float
    threshold: float
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Binary term frequency: a feature's value is its idf, so the l2-normalised dot product needs only the
        # sums of idf*coef and idf^2 over the features present, both precomputed (summed in C via map).
        object.__setattr__(self, "_dot", {name: idf * coef for name, (idf, coef) in self.weights.items()})
        object.__setattr__(self, "_square", {name: idf * idf for name, (idf, _) in self.weights.items()})

    def score(self, text: str) -> float:
        """The probability that ``text`` is an injection or a jailbreak."""
        dot_of: dict[str, float] = self._dot  # type: ignore[attr-defined]
        known = dot_of.keys() & features(text)  # a dict view & a set iterates the smaller side
        if not known:
            return _sigmoid(self.intercept)
        squares = sum(map(self._square.__getitem__, known))  # type: ignore[attr-defined]
        return _sigmoid(self.intercept + sum(map(dot_of.__getitem__, known)) / math.sqrt(squares))

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
        raw = json.dumps(self.to_document(), ensure_ascii=False, separators=(",", ":")).encode()
        path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> InjectionModel:
        """Read an artefact written by :meth:`save`; refuses other formats and versions."""
        try:
            document = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the injection model {path}: {exc}") from None
        if document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
            raise ConfigError(f"{path} is not a {FORMAT} v{FORMAT_VERSION} artefact")
        weights = {
            name: (float(idf), float(coef))
            for name, idf, coef in zip(document["features"], document["idf"], document["coef"], strict=True)
        }
        return cls(weights, float(document["intercept"]), float(document["threshold"]), dict(document["info"]))


def _sigmoid(z: float) -> float:
    if z < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))
