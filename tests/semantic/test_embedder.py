"""The embedding models load offline from their packages, batch, and never mix their vectors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import get_args

import numpy as np
import pytest

from gateway.cache_policy import EmbeddingModel
from gateway.semantic.embedder import MiniLMEmbedder, Vector, models
from gateway.semantic.index import TenantIndex
from gateway.semantic.service import SemanticCache
from gateway.semantic.store import SemanticStore


def test_the_configurable_models_are_the_ones_the_embedder_knows() -> None:
    assert set(get_args(EmbeddingModel)) == set(models())


@pytest.mark.parametrize("model", models())
def test_each_model_embeds_unit_vectors_alike_alone_and_in_a_batch(model: str) -> None:
    embedder = MiniLMEmbedder(model=model, cache_size=0)
    texts = ["How do I cancel my mobile contract?", "How can I cancel my mobile contract?", "Is it raining?"]
    batch = embedder.embed_many(texts)
    alone = [embedder.embed(t) for t in texts]
    for one, other in zip(batch, alone, strict=True):
        assert one.shape == (384,) and abs(float(np.linalg.norm(one)) - 1.0) < 1e-4
        # A batch shares one activation scale in the dynamically quantised model: vectors move a little, no more.
        assert float(one @ other) > 0.99
    assert float(batch[0] @ batch[1]) > 0.9 > float(batch[0] @ batch[2])


class CountingEmbedder:
    """The real default model, recording the size of each model run."""

    dimensions = 384

    def __init__(self) -> None:
        self.inner = MiniLMEmbedder()
        self.model = self.inner.model
        self.runs: list[int] = []

    def embed(self, text: str) -> Vector:
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> list[Vector]:
        self.runs.append(len(texts))
        return self.inner.embed_many(texts)


async def test_questions_waiting_together_are_embedded_in_one_run() -> None:
    embedder = CountingEmbedder()
    cache = SemanticCache(SemanticStore(None), lambda: embedder, max_entries=1,  # type: ignore[arg-type]
                          restructured_threshold=0.8)  # fmt: skip
    try:
        texts = [f"What are the opening hours of branch {n}?" for n in range(9)]
        vectors = await asyncio.gather(*(cache.embed(t) for t in texts))
        assert sum(embedder.runs) == 9 and len(embedder.runs) < 9  # the first alone, the rest together
        for text, vector in zip(texts, vectors, strict=True):
            assert float(vector @ embedder.inner.embed(text)) > 0.99
    finally:
        cache.close()


def test_entries_of_one_model_are_never_candidates_for_another() -> None:
    index = TenantIndex(capacity=4, dimensions=384)
    l6 = MiniLMEmbedder(model="minilm-l6-int8")
    question = "How do I cancel my mobile contract?"
    index.add("k", f"{l6.model}|ns", question, l6.embed(question), float("inf"))
    l3 = MiniLMEmbedder(model="paraphrase-minilm-l3-int8")
    cache = SemanticCache(SemanticStore(None), lambda: l3, max_entries=4,  # type: ignore[arg-type]
                          restructured_threshold=0.8)  # fmt: skip
    try:
        assert cache.search(index, f"{l3.model}|ns", question, l3.embed(question), 0.5) is None
        assert cache.search(index, f"{l6.model}|ns", question, l6.embed(question), 0.5) is not None
    finally:
        cache.close()


def test_the_pooled_output_of_the_default_model_is_the_mean_of_its_token_states() -> None:
    # paraphrase-MiniLM-L3's export pools in its graph; the embedder reads that output instead of pooling itself.
    embedder = MiniLMEmbedder(cache_size=0)
    texts = ["Is the clinic open on Sundays?", "How do I reset my password if I no longer have access to my email?"]
    encodings = embedder._tokenizer.encode_batch(texts)
    ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
    mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
    states_name = next(o.name for o in embedder._session.get_outputs() if len(o.shape) == 3)
    assert states_name != embedder._output
    states = embedder._session.run([states_name], {"input_ids": ids, "attention_mask": mask})[0]
    for row, vector in enumerate(embedder.embed_many(texts)):
        mean = states[row][mask[row] == 1].mean(axis=0)
        assert float(vector @ (mean / np.linalg.norm(mean))) > 1 - 1e-5
