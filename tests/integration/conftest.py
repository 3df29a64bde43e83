"""Fixtures for end-to-end tests: running gateways on the session broker and Redis, shared by the modules.

- ``stack``: one worker, the simulator and isolated topics, with every module's tenant policies
  (:data:`tests.integration.shared_config.SHARED_CONFIG`); ``stack_progress`` is what it printed starting up.
- ``signed_stack``: the same with tenant binding on (:data:`tests.integration.shared_config.SIGNED_CONFIG`).
- ``door``: ``streamgate serve`` in front of ``signed_stack``.

How a module gets a tenant policy on a shared stack, and what it may and may not do there, is in
:mod:`tests.integration.shared_config`. A module that needs a global setting, its own Redis or broker, or kills
workers as its subject starts its own with :func:`tests.support.gateway.gateway_stack`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.devtools.dev import DevStack
from tests.integration.front_door import Door, front_door
from tests.integration.shared_config import SIGNED_CONFIG, write_shared_config
from tests.support.gateway import gateway_stack


@pytest.fixture(scope="session")
def stack_progress() -> list[str]:
    """The lines ``stack`` printed while starting (``streamgate dev``'s progress report)."""
    return []


@pytest.fixture(scope="session")
def stack(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory, stack_progress: list[str]
) -> Iterator[DevStack]:
    """The shared stack: one worker with every module's tenant policies (each module would start a simulator and a
    worker and wait for a probe otherwise). Its modules keep apart by request id and tenant: each publishes fresh
    ids and reads back only those (results, usage, the simulator's per-id call counts)."""
    work = tmp_path_factory.mktemp("stack")
    config = write_shared_config(work)
    with gateway_stack(kafka_bootstrap, redis_url, work, config_toml=config, progress=stack_progress.append) as running:
        yield running


@pytest.fixture(scope="session")
def signed_stack(kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The shared stack whose worker serves only requests signed with their tenant's key."""
    with gateway_stack(
        kafka_bootstrap, redis_url, tmp_path_factory.mktemp("signed"), config_toml=SIGNED_CONFIG
    ) as running:
        yield running


@pytest.fixture(scope="session")
def door(signed_stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    """``streamgate serve`` on the signed stack, with a key for acme/alice and one for tight/pat."""
    with front_door(signed_stack, tmp_path_factory.mktemp("serve")) as running:
        yield running
