"""``streamgate cache eval PAIRS.jsonl``: semantic-hit precision and recall on labelled question pairs.

Each line is ``{"a": cached question, "b": new question, "same": bool}`` (an optional ``category`` is reported
too). A pair is a hit when ``b`` would be served ``a``'s answer: the same index search and verification as the
worker (one entry per pair), at the given threshold. Precision: hits that were right; recall: true pairs hit.
The same figures without verification (plain cosine) are printed beside them, and the one-sided 95 % lower
confidence bound of precision given the number of hits (Clopper-Pearson): 50 right out of 50 hits only shows
precision >= 94.2 %; showing >= 99 % with no wrong hit takes 299 hits.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.semantic.compose import composed
from gateway.semantic.embedder import Embedder
from gateway.semantic.index import TenantIndex
from gateway.semantic.service import SemanticCache
from gateway.semantic.store import SemanticStore


@dataclass
class Tally:
    """Hit counts of one way of deciding."""

    pairs: int = 0
    positives: int = 0
    hits: int = 0
    correct: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, hit: bool, same: bool, pair: tuple[str, str, str]) -> None:
        """Count one pair."""
        self.pairs += 1
        self.positives += same
        if hit:
            self.hits += 1
            if same:
                self.correct += 1
            else:
                self.wrong.append(pair)

    @property
    def precision(self) -> float:
        """Share of hits that served the right answer (1.0 when nothing was hit)."""
        return self.correct / self.hits if self.hits else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that were hit."""
        return self.correct / self.positives if self.positives else 0.0

    @property
    def precision_lower_bound(self) -> float:
        """One-sided 95 % lower confidence bound of precision (Clopper-Pearson; 0 when nothing was hit)."""
        return lower_bound(self.correct, self.hits)


def lower_bound(successes: int, trials: int, *, confidence: float = 0.95) -> float:
    """The p at which ``successes`` or more out of ``trials`` would happen with probability ``1 - confidence``."""
    if trials == 0 or successes == 0:
        return 0.0
    if successes == trials:
        return float((1.0 - confidence) ** (1.0 / trials))

    def at_least(p: float) -> float:
        return sum(math.comb(trials, i) * p**i * (1 - p) ** (trials - i) for i in range(successes, trials + 1))

    low, high = 0.0, 1.0
    for _ in range(60):  # bisection: at_least grows with p
        middle = (low + high) / 2
        low, high = (middle, high) if at_least(middle) < 1.0 - confidence else (low, middle)
    return low


def read_pairs(path: Path) -> list[dict[str, Any]]:
    """The labelled pairs of a JSONL file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluate(
    pairs: list[dict[str, Any]], embedder: Embedder, *, threshold: float, restructured_threshold: float
) -> tuple[Tally, Tally, Counter[str], Counter[str]]:
    """(verified, plain cosine, hits per category, pairs per category)."""
    cache = SemanticCache(SemanticStore(None), lambda: embedder, max_entries=1,  # type: ignore[arg-type]
                          restructured_threshold=restructured_threshold)  # fmt: skip
    verified, plain = Tally(), Tally()
    hits_by: Counter[str] = Counter()
    pairs_by: Counter[str] = Counter()
    for pair in pairs:
        a, b, same = str(pair["a"]), str(pair["b"]), bool(pair["same"])
        category = str(pair.get("category", "same" if same else "different"))
        # One at a time, as a lone request is embedded (a batch shares the quantiser's activation scale).
        va, vb = embedder.embed(a), embedder.embed(b)
        index = TenantIndex(1, embedder.dimensions)
        index.add("k", "ns", a, va, float("inf"))
        hit = cache.search(index, "ns", b, vb, threshold) is not None
        verified.add(hit, same, (category, a, b))
        plain.add(float(va @ vb) >= threshold, same, (category, a, b))
        pairs_by[category] += 1
        hits_by[category] += hit
    cache.close()
    return verified, plain, hits_by, pairs_by


def report(
    paths: list[Path], embedder: Embedder, *, threshold: float, restructured_threshold: float, compose: bool = False
) -> str:
    """The printed evaluation of the pairs of ``paths`` taken together (with each file's composed pairs added when
    ``compose``: see :mod:`gateway.semantic.compose`)."""
    files = [read_pairs(path) for path in paths]
    pairs = [pair for each in files for pair in each + (composed(each) if compose else [])]
    verified, plain, hits_by, pairs_by = evaluate(
        pairs, embedder, threshold=threshold, restructured_threshold=restructured_threshold
    )
    lines = [
        f"{' + '.join(map(str, paths))}{' (+ composed)' if compose else ''}: {verified.pairs} pairs, "
        f"{verified.positives} with the same answer; "
        f"model {embedder.model}, threshold {threshold}, restructured {restructured_threshold}",
        f"  verified:     precision {verified.precision:.4f} ({verified.correct}/{verified.hits} hits right; "
        f"95 % lower bound {verified.precision_lower_bound:.4f}), "
        f"recall {verified.recall:.4f} ({verified.correct}/{verified.positives})",
        f"  plain cosine: precision {plain.precision:.4f} ({plain.correct}/{plain.hits}), recall {plain.recall:.4f}",
        "  hit rate by category: " + ", ".join(f"{c} {hits_by[c]}/{n}" for c, n in sorted(pairs_by.items())),
    ]
    lines += [f"  wrong hit [{c}]: {a!r} -> {b!r}" for c, a, b in verified.wrong[:20]]
    return "\n".join(lines)
