"""Build the goal-hijacking set from held-out test splits: a benign *test* prompt, then an attack *test* prompt.

``python -m bench.guard_sets.hijack OUT.jsonl`` (needs the ``train`` extra). Attacks are placed after ordinary task
text, the shape the classifier would otherwise dilute; the benign halves alone are written with label 0.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from guards.injection.corpora import all_samples

JOINERS = (" ", "\n\n", " Also, ", "\n---\n", ". Then: ")


def build(out: Path, count: int = 400, seed: int = 5) -> None:
    """Write ``count`` hijacks and ``count`` benign task prompts."""
    rng = random.Random(seed)
    test = [s for s in all_samples() if s.split == "test" and s.corpus in ("slabs", "neuralchemy")]
    benign = [s.text for s in test if s.label == 0 and len(s.text) > 30]
    attacks = [s.text for s in test if s.label == 1 and len(s.text) < 300]
    rows = []
    for _ in range(count):
        task = rng.choice(benign)
        rows.append({"text": task + rng.choice(JOINERS) + rng.choice(attacks), "label": 1})
        rows.append({"text": task, "label": 0})
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
