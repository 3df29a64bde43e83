"""Fetch wait: the worker consumer waits ``fetch_max_wait_ms`` (a setting), not Faust's hard-coded 1500 ms.

Faust builds its worker consumer with ``fetch_max_wait_ms=1500`` whatever the configuration says. The embedded
broker answers a waiting fetch by polling, so every topic hop cost ~0.8 s at p50; a short wait brings a hop to
~20 ms (README, "Topology and costs").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faust_patches import patching


def with_fetch_wait(fetch_max_wait_ms: int, fetch_min_bytes: int) -> Callable[[Any], Callable[..., Any]]:
    """A replacement for ``AIOKafkaConsumerThread._create_worker_consumer`` that sets the given fetch wait."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def _create_worker_consumer(self: Any, transport: Any) -> Any:
            consumer = original(self, transport)
            # aiokafka reads these attributes when it builds its Fetcher at start().
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            consumer._fetch_min_bytes = fetch_min_bytes
            return consumer

        return _create_worker_consumer

    return make


def install(*, fetch_max_wait_ms: int, fetch_min_bytes: int = 1) -> None:
    """Give every worker consumer built from now on this fetch wait and minimum fetch size."""
    patching.replace(
        AIOKafkaConsumerThread, "_create_worker_consumer", with_fetch_wait(fetch_max_wait_ms, fetch_min_bytes)
    )
