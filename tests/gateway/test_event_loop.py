"""The event-loop choice: uvloop when asked for and installed, the standard loop otherwise."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Iterator
from typing import Any

import pytest
import uvloop

from gateway.event_loop import install_event_loop


@pytest.fixture(autouse=True)
def restore_policy() -> Iterator[None]:
    policy = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(policy)


def _loop_type() -> type[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        return type(loop)
    finally:
        loop.close()


def test_uvloop_is_installed_when_asked_for() -> None:
    assert install_event_loop("uvloop") == "uvloop"
    assert issubclass(_loop_type(), uvloop.Loop)


def test_the_standard_loop_when_asked_for() -> None:
    install_event_loop("uvloop")
    assert install_event_loop("asyncio") == "asyncio"
    assert not issubclass(_loop_type(), uvloop.Loop)


def test_falls_back_to_the_standard_loop_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_uvloop(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvloop":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvloop)
    assert install_event_loop("uvloop") == "asyncio"
    assert not issubclass(_loop_type(), uvloop.Loop)
