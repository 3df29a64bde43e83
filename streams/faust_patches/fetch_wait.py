"""Fetch wait: the worker consumer waits ``fetch_max_wait_ms`` (a setting), not Faust's hard-coded 1500 ms.

Faust builds its worker consumer with ``fetch_max_wait_ms=1500`` whatever the configuration says, and a hop then
costs about half the wait at p50. The broker does answer a waiting fetch as soon as a record lands, but aiokafka's
next fetch leaves out the partitions whose records are not yet consumed, so their next records wait behind that
long poll: with 500 ms, p50 at 100 req/s was ~190 ms against ~17 ms with 10 ms (bench/FINDINGS.md, "Round 6"). A
short wait costs ~45 ms of worker CPU and ~80 ms of broker CPU per idle second (empty fetches of every partition).
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
