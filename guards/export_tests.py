"""``streamgate guards export-tests DIR``: the held-out test splits of the corpora as ``{text, label}`` JSONL,
for ``streamgate guards eval`` (needs the ``train`` extra)."""

from __future__ import annotations

import json
from pathlib import Path

from guards.injection.corpora import all_samples


def export_tests(directory: Path) -> list[Path]:
    """Write one ``<corpus>-test.jsonl`` per corpus; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    by_corpus: dict[str, list[str]] = {}
    for sample in all_samples():
        if sample.split == "test":
            line = json.dumps({"text": sample.text, "label": sample.label, "category": sample.category})
            by_corpus.setdefault(sample.corpus, []).append(line)
    written = []
    for corpus, lines in sorted(by_corpus.items()):
        path = directory / f"{corpus}-test.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written
