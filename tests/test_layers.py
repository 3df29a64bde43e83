"""The layer rules of the README's Development section, enforced by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "gateway", "guards", "agents", "streams", "bench", "streamgate")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` with ``cwd``'s pyproject.toml and packages."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_every_layer_contract() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "statement", "verdict"),
    [
        ("schemas/_forbidden.py", "import gateway.errors", "schemas is not allowed to import gateway"),
        ("gateway/_forbidden.py", "from agents import job", "gateway is not allowed to import agents"),
        ("guards/_forbidden.py", "import streams.runtime.metrics", "guards is not allowed to import streams"),
        ("agents/_forbidden.py", "import streams.runtime.pipeline", "agents is not allowed to import streams"),
        ("streams/runtime/_forbidden.py", "import bench.runner", "streams is not allowed to import bench"),
        ("streamgate/_forbidden.py", "import streams.runtime.admin", "streamgate is not allowed to import streams"),
        ("gateway/_forbidden2.py", "import streamgate.client", "gateway is not allowed to import streamgate"),
        (
            "streams/state/_forbidden.py",
            "import streams.devtools.dev",
            "streams.state is not allowed to import streams.devtools",
        ),
    ],
)
def test_a_forbidden_import_breaks_the_lint(tmp_path: Path, module: str, statement: str, verdict: str) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f'"""A deliberate layer violation."""\n\n{statement}\n')
    run = lint_imports(tmp_path)
    assert run.returncode != 0, run.stdout
    assert "BROKEN" in run.stdout and verdict in run.stdout, run.stdout
