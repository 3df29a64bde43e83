"""Fixtures for end-to-end tests: a running gateway on the session broker and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.devtools.dev import DevStack
from tests.support.gateway import gateway_stack


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One worker with the default settings, the simulator and isolated topics, shared by every module that asks
    for it (each would start a simulator and a worker and wait for a probe otherwise). Its tests keep apart by
    request id and tenant: each publishes fresh ids and reads back only those (results, usage, the simulator's
    per-id call counts), and none sets a simulator fault or restarts the worker."""
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("stack")) as running:
        yield running
