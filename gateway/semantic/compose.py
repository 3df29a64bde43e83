"""Reworded traps and reworded paraphrases derived from a labelled pair set, by composing its labels.

When one cached question ``a`` has a true pair ``b`` (same answer) and a trap ``t`` (different answer), then ``b``
and ``t`` have different answers too, and two true pairs ``b1``, ``b2`` of the same ``a`` share one answer. These
derived pairs are the hard case that minimal pairs miss: a *reworded* question against a trap ("How can I make the
text bigger?" / "How do I decrease the font size?"). Labels follow from the data's own, none are ours. Derived
pairs are drawn from one file at a time, so a split (dev / held-out) stays a split.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import permutations
from typing import Any


def composed(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pairs derived from anchors that have a true pair and another pair (both directions of each)."""
    by_anchor: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pair in pairs:
        by_anchor[str(pair["a"])].append(pair)
    derived: list[dict[str, Any]] = []
    for group in by_anchor.values():
        same = [p for p in group if p["same"]]
        traps = [p for p in group if not p["same"]]
        for s in same:
            for t in traps:
                category = f"composed_{t.get('category', 'different')}"
                derived.append({"a": s["b"], "b": t["b"], "same": False, "category": category})
                derived.append({"a": t["b"], "b": s["b"], "same": False, "category": category})
        for first, second in permutations(same, 2):
            derived.append({"a": first["b"], "b": second["b"], "same": True, "category": "composed_same"})
    return derived
