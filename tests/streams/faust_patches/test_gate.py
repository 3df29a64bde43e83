"""The version gate: ``install`` refuses, before replacing anything, a version or a method it was not written for;
on the supported versions it installs every correction once, however many apps a process creates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiokafka
import faust
import pytest
from faust.tables.base import Collection
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from gateway.errors import FaustPatchError, StreamgateError
from gateway.settings import Settings
from streams import faust_patches
from streams.faust_patches import gate, patching
from streams.runtime.app import create_app

REPLACED = [shape.replaced_method for shape in gate.SHAPES if shape.replaced_method is not None]


def new_app(tmp_path: Path) -> tuple[faust.App, Settings]:
    settings = Settings(data_dir=tmp_path, fetch_max_wait_ms=15)
    return faust.App("test-gate", broker="kafka://127.0.0.1:1"), settings


def current() -> dict[tuple[type, str], Any]:
    return {(owner, name): owner.__dict__[name] for owner, name in REPLACED}


def test_every_recorded_shape_matches_the_installed_libraries() -> None:
    gate.check()  # raises on any mismatch
    assert {shape.module for shape in gate.SHAPES} == {
        "commit_offsets",
        "fetch_wait",
        "end_offsets",
        "changelog_barrier",
        "direct_send",
        "event_context",
        "partition_heads",
    }
    assert set(REPLACED) == {
        (Consumer, "_new_offset"),
        (Consumer, "perform_seek"),
        (Consumer, "_commit_offsets"),
        (AIOKafkaConsumerThread, "_create_worker_consumer"),
        (AIOKafkaConsumerThread, "_highwaters"),
        (Collection, "send_changelog"),
    }


def test_install_replaces_every_method_once_for_any_number_of_apps(tmp_path: Path) -> None:
    upstream = {key: patching.upstream(*key) for key in REPLACED}
    for _ in range(3):
        faust_patches.install(*new_app(tmp_path))
        gate.check()  # our own replacements are looked through, not mistaken for a changed upstream
    for key, method in current().items():
        assert patching.installed(*key) and method.__wrapped__ is upstream[key], key


def test_upstream_commit_logic_restores_faust_s_commit_and_drops_the_barrier(tmp_path: Path) -> None:
    app, settings = new_app(tmp_path)
    faust_patches.install(app, settings)
    faust_patches.install(app, settings.model_copy(update={"upstream_commit_logic": True}))
    assert not patching.installed(Consumer, "_new_offset")
    assert not patching.installed(Consumer, "perform_seek")
    assert not patching.installed(Consumer, "_commit_offsets")
    assert not patching.installed(Collection, "send_changelog")
    assert patching.installed(AIOKafkaConsumerThread, "_create_worker_consumer")


@pytest.mark.parametrize(("module", "version"), [(faust, "0.15.4"), (aiokafka, "0.13.0")])
def test_an_unsupported_version_is_refused_before_anything_is_replaced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: Any, version: str
) -> None:
    monkeypatch.setattr(module, "__version__", version)
    before = current()
    with pytest.raises(FaustPatchError, match=re.escape(version)) as refused:
        faust_patches.install(*new_app(tmp_path))
    assert isinstance(refused.value, StreamgateError)
    assert current() == before


def test_a_changed_upstream_method_is_refused_by_name_before_anything_is_replaced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def _highwaters(self: Any, partitions: Any) -> Any:  # same name, other body: a new faust-streaming release
        return {}

    monkeypatch.setattr(AIOKafkaConsumerThread, "_highwaters", _highwaters)
    before = current()
    with pytest.raises(FaustPatchError, match=r"AIOKafkaConsumerThread\._highwaters.*end_offsets"):
        faust_patches.install(*new_app(tmp_path))
    assert current() == before


def test_a_changed_method_relied_on_but_not_replaced_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def seek(self: Any, partition: Any, offset: int) -> None:
        return None

    monkeypatch.setattr(Consumer, "seek", seek)
    with pytest.raises(FaustPatchError, match=r"Consumer\.seek.*partition_heads.*re-deliver"):
        gate.check()


def test_the_worker_app_is_not_built_on_an_unsupported_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(faust, "__version__", "0.16.0")
    with pytest.raises(FaustPatchError, match=r"faust-streaming 0\.15\.3, found 0\.16\.0"):
        create_app(Settings(data_dir=tmp_path), "127.0.0.1:1")
