"""``streamgate cache bench``: semantic lookup cost (embedding + search + verification) with N entries per tenant.

The index is filled with ``entries`` entries (questions from the evaluation pairs, then unit vectors for the rest:
search cost does not depend on what the vectors mean); each timed lookup embeds a question not seen before (no
embedding-cache help), searches the tenant's index and verifies the candidates. Memory per entry is measured with
tracemalloc over the index build; the Redis side is the stored value's size.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

from gateway.semantic.embedder import Embedder
from gateway.semantic.evaluate import read_pairs
from gateway.semantic.index import TenantIndex
from gateway.semantic.service import SemanticCache
from gateway.semantic.store import SemanticStore

REDIS_VALUE_BYTES = 1024 + 96  # base64 of 384 float16 + namespace, expiry and JSON framing (plus the question)


def run(
    pairs_file: Path, embedder: Embedder, *, entries: int, queries: int, threshold: float, restructured_threshold: float
) -> str:
    """Build the index, time ``queries`` lookups, return the printed report."""
    pairs = read_pairs(pairs_file)
    questions = [str(p["a"]) for p in pairs]
    probes = list(dict.fromkeys(str(p["b"]) for p in pairs if str(p["b"]) not in set(questions)))[:queries]
    rng = np.random.default_rng(7)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = TenantIndex(entries, embedder.dimensions)
    for i in range(entries):
        if i < len(questions):
            question, vector = questions[i], embedder.embed(questions[i])
        else:
            question = f"synthetic question number {i} about nothing in particular"
            raw = rng.standard_normal(embedder.dimensions).astype(np.float32)
            vector = raw / np.linalg.norm(raw)
        index.add(f"sg:cache:v2:{{bench}}:gpt-4o-mini:{i:064x}", "ns", question, vector, time.time() + 3600)
    per_entry = (tracemalloc.get_traced_memory()[0] - before) / entries
    tracemalloc.stop()
    cache = SemanticCache(SemanticStore(None), lambda: embedder, max_entries=entries,  # type: ignore[arg-type]
                          restructured_threshold=restructured_threshold)  # fmt: skip
    timings, cpu, hits = [], [], 0
    for probe in probes:
        started, started_cpu = time.perf_counter(), time.thread_time()
        hits += cache.search(index, "ns", probe, embedder.embed(probe), threshold) is not None
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    search_only = []
    for probe in probes[:100]:
        vector = embedder.embed(probe)  # cached now: this times search + verification alone
        started = time.perf_counter()
        cache.search(index, "ns", probe, vector, threshold)
        search_only.append((time.perf_counter() - started) * 1000)
    embed_cpu = _embedding_cpu(embedder, probes, batch=1)
    batched_cpu = _embedding_cpu(embedder, probes, batch=8)
    cache.close()
    p50, p95, p99 = np.percentile(timings, [50, 95, 99])
    e50, e99 = np.percentile(embed_cpu, [50, 99])
    c50, c99 = np.percentile(cpu, [50, 99])
    q50, q99 = np.percentile(search_only, [50, 99])
    mean_question = sum(len(q.encode()) for q in questions) / max(1, len(questions))
    return "\n".join([
        f"semantic lookup, {entries} entries in one tenant's index, {len(timings)} fresh questions "
        f"(embedding + search + verification), model {embedder.model}, threshold {threshold}:",
        f"  p50 {p50:.2f} ms   p95 {p95:.2f} ms   p99 {p99:.2f} ms   max {max(timings):.2f} ms   ({hits} hits)",
        f"  CPU time of the same lookups (what they cost on an idle core): p50 {c50:.2f} ms   p99 {c99:.2f} ms",
        f"  embedding alone ({embedder.model}), CPU: p50 {e50:.2f} ms   p99 {e99:.2f} ms; "
        f"in batches of 8: {float(np.mean(batched_cpu)):.2f} ms a question",
        f"  search + verification alone: p50 {q50:.3f} ms   p99 {q99:.3f} ms",
        f"  memory per entry in the worker: {per_entry:.0f} bytes "
        f"(int8 codes 384 + float16 768 + key, question, metadata)",
        f"  Redis per entry: ~{REDIS_VALUE_BYTES + mean_question:.0f} bytes of hash value "
        f"(+ the exact-cache answer it points at)",
    ])  # fmt: skip


def _embedding_cpu(embedder: Embedder, probes: list[str], *, batch: int) -> list[float]:
    """CPU ms a question of embedding ``probes`` (not seen before: variants the embedding cache cannot know)."""
    fresh = [f"{probe} (variant {batch})" for probe in probes]
    per_question = []
    for start in range(0, len(fresh), batch):
        chunk = fresh[start : start + batch]
        started = time.thread_time()
        embedder.embed_many(chunk)
        per_question.append((time.thread_time() - started) * 1000 / len(chunk))
    return per_question
