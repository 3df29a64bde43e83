"""Every Faust method a correction replaces is put back as it was after each test here."""

from __future__ import annotations

import pytest

from streams.faust_patches import gate


@pytest.fixture(autouse=True)
def restore_faust(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test installs on Faust's classes is undone when it ends."""
    for shape in gate.SHAPES:
        if shape.replaced_method is not None:
            owner, name = shape.replaced_method
            monkeypatch.setattr(owner, name, owner.__dict__[name])
