"""The semantic cache of a worker: per-tenant in-process indexes over a durable Redis store.

A tenant's requests are screened (and so looked up) by the worker that owns its partition, so a per-tenant index
in that worker sees every write for the tenant. It is (re)built from Redis the first time a tenant is looked up
and again after every rebalance (``generation`` changes), so entries written elsewhere meanwhile are found.

Lookup: embed the question (on an executor thread, cached by text), take the most similar entries of the same
namespace above the threshold, and serve the first that passes :func:`gateway.semantic.verify.verify`.
Questions that wait for the embedding thread together are embedded in one model run (a batch). Entries are
namespaced by the embedding model too, so after a change of ``semantic_model`` old vectors are never compared
with new ones (they age out with their TTL).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gateway.semantic import valence, wordnet
from gateway.semantic.embedder import Embedder, Vector
from gateway.semantic.index import TenantIndex
from gateway.semantic.store import SemanticStore, StoredQuestion
from gateway.semantic.verify import load as verify_tables
from gateway.semantic.verify import verify

log = logging.getLogger(__name__)
MAX_BATCH = 16  # questions embedded in one model run (CPU a question stops falling at ~8)


@dataclass(frozen=True, slots=True)
class SemanticMatch:
    """A verified semantic hit: the exact-cache key of the answer and the similarity of the questions."""

    key: str
    question: str
    similarity: float


class SemanticCache:
    """Per-tenant indexes, rebuilt from :class:`SemanticStore` on first use and after each rebalance."""

    def __init__(
        self,
        store: SemanticStore,
        embedder_factory: Callable[[], Embedder],
        *,
        max_entries: int,
        restructured_threshold: float,
        generation: Callable[[], int] = lambda: 0,
    ) -> None:
        self._store = store
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self._max_entries = max_entries
        self._restructured = restructured_threshold
        self.generation = generation  # the worker sets it to its rebalance count
        self._indexes: dict[str, tuple[int, TenantIndex]] = {}
        self._loading: dict[str, asyncio.Future[TenantIndex]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sg-embed")
        self._waiting: list[tuple[str, asyncio.Future[Vector]]] = []
        self._drain: asyncio.Future[None] | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        if self._embedder is None:
            self._embedder = self._embedder_factory()
            wordnet.load()  # the verifier's tables, read with the model rather than on the first lookup
            valence.load()
            verify_tables()
        return self._embedder

    def load(self) -> None:
        """Load the embedding model and the verifier's tables now (at start-up), not on the first lookup."""
        _ = self.embedder

    async def embed(self, text: str) -> Vector:
        """The question's embedding, computed off the event loop (batched with the questions waiting with it)."""
        future: asyncio.Future[Vector] = asyncio.get_running_loop().create_future()
        self._waiting.append((text, future))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.ensure_future(self._embed_waiting())
        return await future

    async def _embed_waiting(self) -> None:
        embedder, loop = self.embedder, asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                vectors = await loop.run_in_executor(self._executor, embedder.embed_many, [t for t, _ in batch])
            except Exception as exc:  # every waiter sees the failure (its caller degrades to a miss)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), vector in zip(batch, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)

    def _scoped(self, namespace: str) -> str:
        return f"{self.embedder.model}|{namespace}"

    async def lookup(self, tenant: str, namespace: str, question: str, threshold: float) -> SemanticMatch | None:
        """A verified match for ``question`` among the tenant's entries of ``namespace``, or ``None``."""
        index = await self.index(tenant)
        if len(index) == 0:
            return None
        vector = await self.embed(question)
        return self.search(index, self._scoped(namespace), question, vector, threshold)

    def search(
        self, index: TenantIndex, namespace: str, question: str, vector: Vector, threshold: float
    ) -> SemanticMatch | None:
        """The first candidate that passes verification (plain CPU work, used by the benchmark too)."""
        for candidate in index.nearest(namespace, vector, threshold):
            verdict = verify(candidate.question, question, candidate.similarity,
                             restructured_threshold=self._restructured)  # fmt: skip
            if verdict.ok:
                return SemanticMatch(candidate.key, candidate.question, candidate.similarity)
        return None

    async def remember(self, tenant: str, namespace: str, question: str, key: str, ttl_s: int) -> None:
        """Index ``question`` (whose answer is stored under ``key``) and persist it."""
        index = await self.index(tenant)
        vector = await self.embed(question)
        expires_at = time.time() + ttl_s
        scoped = self._scoped(namespace)
        index.add(key, scoped, question, vector, expires_at)
        await self._store.add(tenant, StoredQuestion(key, scoped, question, vector, expires_at), ttl_s)

    async def forget(self, tenant: str, key: str) -> None:
        """Drop an entry whose answer is gone from the exact cache."""
        found = self._indexes.get(tenant)
        if found is not None:
            found[1].remove(key)
        await self._store.forget(tenant, key)

    async def index(self, tenant: str) -> TenantIndex:
        """The tenant's index, (re)loaded from Redis when missing or built before the last rebalance."""
        generation = self.generation()
        found = self._indexes.get(tenant)
        if found is not None and found[0] == generation:
            return found[1]
        loading = self._loading.get(tenant)
        if loading is None:
            loading = asyncio.ensure_future(self._load(tenant, generation))
            self._loading[tenant] = loading
            loading.add_done_callback(lambda _: self._loading.pop(tenant, None))
        return await asyncio.shield(loading)

    async def _load(self, tenant: str, generation: int) -> TenantIndex:
        # A Redis failure propagates to the caller's guard (which backs off and degrades to a miss); nothing is
        # kept, so the next lookup after Redis returns rebuilds the index.
        index = TenantIndex(self._max_entries, self.embedder.dimensions)
        entries = await self._store.load(tenant, self._max_entries)
        for entry in entries:
            if entry.vector.shape != (index.dimensions,):
                continue  # written by a model of another size: never comparable
            index.add(entry.key, entry.namespace, entry.question, entry.vector, entry.expires_at)
        self._indexes[tenant] = (generation, index)
        log.info("semantic index of %s rebuilt from Redis: %d entries", tenant, len(entries))
        return index

    def close(self) -> None:
        """Stop the embedding thread."""
        self._executor.shutdown(wait=False)
