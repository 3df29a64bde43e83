"""The L1B3RT4S set builder splits files into blocks the way its docstring says."""

from __future__ import annotations

import json
from pathlib import Path

from bench.guard_sets.libertas import blocks, build

LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"


def test_blocks_split_at_headings_and_blank_runs_and_drop_short_ones() -> None:
    text = f"# Title\n{LONG}\nsecond line\n\n{LONG} same block\n\n\n{LONG} next\n## H2\nshort block\n\n\n{LONG}"
    assert blocks(text) == [
        f"{LONG}\nsecond line\n\n{LONG} same block",
        f"{LONG} next",
        LONG,
    ]


def test_build_skips_system_prompts_and_writes_one_json_line_per_block(tmp_path: Path) -> None:
    (tmp_path / "A.mkd").write_text(f"{LONG}\u2028with a line separator\n\n\n{LONG}", encoding="utf-8")
    (tmp_path / "SYSTEMPROMPTS.mkd").write_text(LONG, encoding="utf-8")
    (tmp_path / "notes.json").write_text(LONG, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert build(tmp_path, out) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["source"] for line in lines] == ["A.mkd", "A.mkd"]
    assert all(json.loads(line)["label"] == 1 for line in lines)
