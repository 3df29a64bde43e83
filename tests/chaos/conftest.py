"""The chaos suite: every module here is marked ``chaos`` (and ``integration``) and runs only when asked for
(``make chaos``, i.e. ``pytest -m chaos``). Each scenario records its :class:`tests.chaos.audit.Figures`; they are
printed at the end of the run and written to ``.streamgate/chaos-last.json``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.audit import Figures

FIGURES: list[Figures] = []
SUMMARY_FILE = Path(".streamgate/chaos-last.json")


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """This scenario's figures, reported at the end of the run whether it passed or not."""
    found = Figures(scenario=request.node.name.removeprefix("test_"))
    FIGURES.append(found)
    return found


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("chaos figures")
    for each in FIGURES:
        terminalreporter.write_line(each.line())
    SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY_FILE.write_text(
        json.dumps({"finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "scenarios": [f.__dict__ for f in FIGURES]}, indent=2, default=str)
    )
