"""Fixtures for end-to-end tests: a running gateway on the session broker and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.devtools.dev import DevStack
from tests.support.gateway import gateway_stack


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One worker, the simulator, isolated topics; shared by the tests of a module."""
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("stack")) as running:
        yield running
