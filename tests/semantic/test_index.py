"""The two-stage search (an int8 scan, then float16 rescoring) finds what an exact float32 search finds."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gateway.semantic.index import TenantIndex


def _unit_vectors(count: int, dimensions: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dimensions)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8, 0.95])
def test_the_int8_scan_loses_no_candidate_of_an_exact_search(threshold: float) -> None:
    # Per query, entries at similarities just below and just above the threshold (within 0.01), among 3,000
    # random ones: exactly those at or above it come back, with their exact similarity.
    rng = np.random.default_rng(3)
    queries = _unit_vectors(5, 384, seed=5)
    entries = [*_unit_vectors(3000, 384, seed=1)]
    for query in queries:
        for target in rng.uniform(threshold - 0.01, threshold + 0.01, 8):
            other = rng.standard_normal(384).astype(np.float32)
            other -= (other @ query) * query
            other /= np.linalg.norm(other)
            entries.append((target * query + np.sqrt(1 - target**2) * other).astype(np.float32))
    index = TenantIndex(capacity=5000, dimensions=384)  # more slots than entries: empty columns are scanned too
    for i, vector in enumerate(entries):
        index.add(f"k{i}", "ns", f"q{i}", vector, time.time() + 60)
    stored = np.asarray(entries).astype(np.float16).astype(np.float32)  # what the index (and Redis) keeps
    for query in queries:
        sims = stored @ query
        expected = [f"k{i}" for i in np.argsort(-sims, kind="stable")[:20] if sims[i] >= threshold]
        found = index.nearest("ns", query, threshold, k=20)
        assert 0 < len(expected) < 8 and [c.key for c in found] == expected
        for candidate in found:
            assert candidate.similarity == pytest.approx(float(sims[int(candidate.key[1:])]), abs=1e-5)


def test_empty_slots_other_namespaces_and_expired_entries_are_never_candidates() -> None:
    index = TenantIndex(capacity=1000, dimensions=8)
    vector = np.eye(8, dtype=np.float32)[0]
    index.add("live", "ns", "q", vector, time.time() + 60)
    index.add("expired", "ns", "q", vector, time.time() - 1)
    index.add("elsewhere", "other", "q", vector, time.time() + 60)
    index.add("removed", "ns", "q", vector, time.time() + 60)
    index.remove("removed")
    # A threshold below the scan's margin would let empty (all-zero) slots through if they were not excluded.
    assert [c.key for c in index.nearest("ns", vector, 0.001, k=10)] == ["live"]
    assert index.nearest("ns", -vector, 0.001) == []
