"""The Dockerfile copies everything ``pip install .`` needs: every package pyproject.toml lists, and its readme.

Docker cannot run here, so the test replays the Dockerfile's ``COPY`` lines into a temporary directory and checks
that the copy holds what the wheel build reads.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
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


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users


def test_the_copied_context_installs_and_its_modules_load_from_the_install(tmp_path: Path) -> None:
    context, site = tmp_path / "context", tmp_path / "site"
    _replay(_copies((ROOT / "Dockerfile").read_text()), context)
    # --no-deps: the dependencies are this venv's; what is checked is that our own packages build and install
    # (the build backend comes from the package index in an isolated build, as in the image).
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
    subprocess.run([*pip, str(site), str(context)], check=True, capture_output=True, timeout=300)
    probe = (
        "import importlib\n"
        "for name in ('streams.runtime.worker', 'gateway.tenant_binding', 'bench.cli', 'guards.registry'):\n"
        "    print(importlib.import_module(name).__file__)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    files = out.stdout.split()
    assert len(files) == 4 and all(f.startswith(str(site)) for f in files), files  # from the install, not the checkout
