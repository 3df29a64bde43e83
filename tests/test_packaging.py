"""Our top-level import names are ours alone, resolve to this repository and are all in pyproject.toml.

``openai-agents`` installs a top-level ``agents`` package, and ``schemas``, ``guards``, ``gateway`` and
``streams`` are generic names: if another distribution provides one, imports silently pick the wrong code.
"""

from __future__ import annotations

import importlib.util
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("agents", "schemas", "guards", "streams", "gateway", "bench", "streamgate")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_import_name_resolves_inside_this_repo(name: str) -> None:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, f"{name} is not importable"
    assert Path(spec.origin).resolve().is_relative_to(ROOT), f"{name} is {spec.origin}, outside {ROOT}"
    for location in spec.submodule_search_locations or []:
        assert Path(location).resolve().is_relative_to(ROOT), f"{name} also searches {location}"


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_no_other_installed_distribution_provides_the_name(name: str) -> None:
    others = set(packages_distributions().get(name, [])) - {PYPROJECT["project"]["name"]}
    assert not others, f"installed distributions {sorted(others)} also provide top-level {name!r}"


def _packages_on_disk() -> set[str]:
    found = set()
    for top in TOP_LEVEL:
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def test_pyproject_lists_every_package_explicitly() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    listed = setuptools.get("packages")
    assert isinstance(listed, list), "tool.setuptools.packages must be an explicit list, not find:"
    assert set(TOP_LEVEL) <= set(listed)
    on_disk = _packages_on_disk()
    unlisted, missing = on_disk - set(listed), set(listed) - on_disk
    assert not unlisted, f"add to tool.setuptools.packages (older setuptools do not ship them): {unlisted}"
    assert not missing, f"listed packages without an __init__.py: {missing}"
    assert set(PYPROJECT["tool"]["mypy"]["packages"]) == set(TOP_LEVEL)
