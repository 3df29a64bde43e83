"""One closed error tree: every exception class defined in our packages derives from StreamgateError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from gateway.errors import StreamgateError

PACKAGES = ("schemas", "gateway", "guards", "agents", "streams", "bench", "streamgate")

ALLOWED_OUTSIDE = {
    # The provider simulator stands in for a provider's server; its 400 signal is turned into an HTTP answer inside
    # gateway.simulator.calls.serve_call and never reaches streamgate code.
    "gateway.simulator.calls.BadRequest",
}


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        modules = pkgutil.walk_packages(root.__path__, prefix=f"{package}.")
        # ``__main__`` modules run their command when imported and define no classes.
        names.extend(info.name for info in modules if not info.name.endswith(".__main__"))
    return names


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == name:
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_the_walk_finds_the_known_exception_classes() -> None:
    found = _exception_classes()
    for name in (
        "gateway.errors.ProviderTimeout",
        "gateway.resilience.errors.AllLinksFailed",
        "agents.intake.InvalidEvent",
        "gateway.simulator.calls.BadRequest",
    ):
        assert name in found


@pytest.mark.parametrize("name", sorted(set(_exception_classes()) - ALLOWED_OUTSIDE))
def test_every_exception_class_derives_from_the_root(name: str) -> None:
    assert issubclass(_exception_classes()[name], StreamgateError), f"{name} is outside the StreamgateError tree"


def test_the_allow_list_names_only_classes_that_exist_outside_the_tree() -> None:
    found = _exception_classes()
    for name in ALLOWED_OUTSIDE:
        assert name in found and not issubclass(found[name], StreamgateError)


def test_invalid_event_carries_its_fields_and_code() -> None:
    from agents.intake import InvalidEvent
    from schemas.codes import ErrorCode

    bad = InvalidEvent("schema", "messages: Field required", request_id="r1", reply_to="llm.results.mine")
    assert bad.code == ErrorCode.INVALID_REQUEST
    assert (bad.reason, bad.detail, bad.request_id, bad.reply_to, str(bad)) == (
        "schema",
        "messages: Field required",
        "r1",
        "llm.results.mine",
        "messages: Field required",
    )
