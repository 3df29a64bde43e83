"""The in-process nearest-neighbour index of one tenant's cached questions.

Two-stage exact-enough search. Each entry is held twice: as int8 codes (one scale per entry) in a contiguous
``dimensions x rows`` matrix, scanned with one int8 matrix-vector product (onnxruntime's ``MatMulInteger``, one
thread: 10,000 x 384 in ~0.1 ms, against ~0.5-1 ms for numpy's float32 product, which reads four times the
memory), and as float16 (the precision Redis keeps anyway), with which the few rows whose int8 similarity is
within ``COARSE_MARGIN`` of the threshold are scored again exactly. The int8 similarity of two unit vectors is off
by at most ~0.002 (measured), so the margin of 0.02 loses no candidate. Only entries of the query's namespace (same
model, parameters, system prompt and earlier turns) and not expired are candidates. Memory is bounded: storage grows
by doubling up to ``capacity`` entries, then the oldest entry is overwritten (FIFO eviction); per entry 384 B of
codes + 768 B of float16 + 4 B of scale for 384 dimensions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from gateway.semantic.embedder import Vector

COARSE_MARGIN = 0.02  # int8 similarities this far below the threshold are scored again exactly
MAX_RESCORED = 256  # rows scored exactly at most (the most similar by int8 similarity)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A cached question near the query."""

    key: str
    question: str
    similarity: float


@cache
def _one_blas_thread() -> None:
    # The exact rescoring and the embedder's pooling are small products that gain nothing from a BLAS thread pool;
    # on 2 shared cores the pool's threads made p99 20 ms instead of 0.9 ms. Process-wide, once.
    threadpool_limits(limits=1, user_api="blas")


@cache
def _scanner() -> Any:
    """An onnxruntime session computing ``query_u8 @ codes_s8`` (one thread, the worker's other core free).

    The query's zero point (128) is taken off afterwards with the codes' column sums: given to ``MatMulInteger`` as
    an input it made the product 3-4x slower (another kernel)."""
    import onnxruntime
    from onnx import TensorProto, helper

    node = helper.make_node("MatMulInteger", ["query", "codes"], ["dots"])
    graph = helper.make_graph(
        [node], "scan",
        [helper.make_tensor_value_info("query", TensorProto.UINT8, [1, "d"]),
         helper.make_tensor_value_info("codes", TensorProto.INT8, ["d", "n"])],
        [helper.make_tensor_value_info("dots", TensorProto.INT32, [1, "n"])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _quantise(vector: Vector) -> tuple[npt.NDArray[np.int8], float]:
    """Symmetric int8 codes of ``vector`` and their scale (``vector ~= codes * scale``)."""
    peak = float(np.abs(vector).max())
    scale = peak / 127.0 if peak > 0 else 1.0
    return np.rint(vector / scale).astype(np.int8), scale


class TenantIndex:
    """Vectors, namespaces, questions and expiries of one tenant's entries (a ring buffer)."""

    def __init__(self, capacity: int, dimensions: int) -> None:
        _one_blas_thread()
        self.capacity = capacity
        self.dimensions = dimensions
        start = min(capacity, 256)
        self._codes = np.zeros((dimensions, start), dtype=np.int8)  # one column per entry: scanned in one product
        self._scales = np.zeros(start, dtype=np.float32)  # 0 for an empty slot: its int8 similarity is 0
        self._offsets = np.zeros(start, dtype=np.int32)  # 128 x each column's sum: the query's zero point
        self._vectors = np.zeros((start, dimensions), dtype=np.float16)
        self._namespaces = np.full(start, -1, dtype=np.int64)
        self._expires = np.zeros(start, dtype=np.float64)
        self._keys: list[str] = [""] * start
        self._questions: list[str] = [""] * start
        self._slots: dict[str, int] = {}
        self._namespace_ids: dict[str, int] = {}
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        """Entries held (expired ones included until overwritten)."""
        return self._size

    def add(self, key: str, namespace: str, question: str, vector: Vector, expires_at: float) -> None:
        """Insert or refresh an entry, evicting the oldest at capacity."""
        slot = self._slots.get(key)
        if slot is None:
            if self._next >= len(self._keys):
                self._grow()
            slot = self._next
            self._next = (self._next + 1) % self.capacity
            evicted = self._keys[slot]
            if evicted:
                self._slots.pop(evicted, None)
            else:
                self._size += 1
            self._slots[key] = slot
        namespace_id = self._namespace_ids.setdefault(namespace, len(self._namespace_ids))
        codes, self._scales[slot] = _quantise(vector)
        self._codes[:, slot] = codes
        self._offsets[slot] = 128 * int(codes.sum(dtype=np.int32))
        self._vectors[slot] = vector
        self._namespaces[slot] = namespace_id
        self._expires[slot] = expires_at
        self._keys[slot] = key
        self._questions[slot] = question

    def _grow(self) -> None:
        size = min(self.capacity, len(self._keys) * 2)
        extra = size - len(self._keys)
        self._codes = np.ascontiguousarray(np.hstack([self._codes, np.zeros((self.dimensions, extra), np.int8)]))
        self._scales = np.concatenate([self._scales, np.zeros(extra, np.float32)])
        self._offsets = np.concatenate([self._offsets, np.zeros(extra, np.int32)])
        self._vectors = np.concatenate([self._vectors, np.zeros((extra, self.dimensions), np.float16)])
        self._namespaces = np.concatenate([self._namespaces, np.full(extra, -1, np.int64)])
        self._expires = np.concatenate([self._expires, np.zeros(extra, np.float64)])
        self._keys.extend([""] * extra)
        self._questions.extend([""] * extra)

    def remove(self, key: str) -> None:
        """Make an entry unfindable (its answer is gone)."""
        slot = self._slots.get(key)
        if slot is not None:
            self._namespaces[slot] = -1

    def nearest(self, namespace: str, vector: Vector, threshold: float, k: int = 3) -> list[Candidate]:
        """Up to ``k`` live entries of ``namespace`` at or above ``threshold``, most similar first."""
        namespace_id = self._namespace_ids.get(namespace)
        if namespace_id is None or self._size == 0:
            return []
        codes, scale = _quantise(vector)
        query = (codes.astype(np.int16) + 128).astype(np.uint8)[None, :]
        # Every allocated column is scanned (a slice of columns would be copied first); empty ones score 0.
        dots: npt.NDArray[np.int32] = _scanner().run(None, {"query": query, "codes": self._codes})[0][0]
        coarse = (dots - self._offsets) * (self._scales * scale)
        # Threshold first: it leaves a handful of rows, so the namespace and expiry checks touch only those.
        picked = np.flatnonzero(coarse >= threshold - COARSE_MARGIN)
        if picked.size == 0:
            return []
        picked = picked[(self._namespaces[picked] == namespace_id) & (self._expires[picked] > time.time())]
        if picked.size > MAX_RESCORED:
            picked = picked[np.argpartition(-coarse[picked], MAX_RESCORED)[:MAX_RESCORED]]
        if picked.size == 0:
            return []
        sims: npt.NDArray[np.float32] = self._vectors[picked].astype(np.float32) @ vector.astype(np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [
            Candidate(self._keys[picked[i]], self._questions[picked[i]], float(sims[i]))
            for i in order
            if sims[i] >= threshold
        ]
