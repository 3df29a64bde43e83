"""The Dockerfile copies everything ``pip install .`` needs: every package pyproject.toml lists, and its readme.

Docker cannot run here, so the test replays the Dockerfile's ``COPY`` lines into a temporary directory and checks
that the copy holds what the wheel build reads.
"""

from __future__ import annotations

import shlex
import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _copies(dockerfile: str) -> list[tuple[list[str], str]]:
    """``(sources, destination)`` of each ``COPY`` instruction (flags such as ``--chown`` dropped)."""
    found = []
    for line in dockerfile.splitlines():
        if line.split(maxsplit=1)[:1] == ["COPY"]:
            words = shlex.split(line, comments=True)
            paths = [word for word in words[1:] if not word.startswith("--")]
            found.append((paths[:-1], paths[-1]))
    return found


def _replay(copies: list[tuple[list[str], str]], into: Path) -> None:
    """Copy like Docker: a directory's contents into the destination, a file into a destination directory."""
    for sources, destination in copies:
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, into / destination, dirs_exist_ok=True)
            elif destination.endswith("/") or len(sources) > 1:
                (into / destination).mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into / destination / origin.name)
            else:
                (into / destination).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into / destination)


def test_copy_lines_are_parsed() -> None:
    assert _copies("COPY a b ./\nRUN x\nCOPY --chown=1 src ./src\n") == [(["a", "b"], "./"), (["src"], "./src")]


def test_the_image_copies_every_package_pyproject_installs(tmp_path: Path) -> None:
    _replay(_copies((ROOT / "Dockerfile").read_text()), tmp_path)
    assert (tmp_path / "pyproject.toml").is_file()
    assert (tmp_path / PYPROJECT["project"]["readme"]).is_file()
    packages = PYPROJECT["tool"]["setuptools"]["packages"]
    missing = [name for name in packages if not (tmp_path / name.replace(".", "/") / "__init__.py").is_file()]
    assert not missing, f"the Dockerfile does not COPY these packages, so `pip install .` fails: {missing}"
    for package, patterns in PYPROJECT["tool"]["setuptools"].get("package-data", {}).items():
        for pattern in patterns:
            where = tmp_path / package.replace(".", "/")  # "gateway.semantic" lives in gateway/semantic
            assert list(where.glob(pattern)), f"package data {package}/{pattern} is not copied"
