"""Fetch wait: the worker consumer waits ``fetch_max_wait_ms`` while records flow and longer when idle.

Faust builds its worker consumer with ``fetch_max_wait_ms=1500`` whatever the configuration says; we set the
wait from the settings. A fixed wait trades idle CPU for latency on the embedded broker: Tansu 0.6 does not
answer a waiting fetch when a record lands but at its next look, about half the wait later (bench/FINDINGS.md,
Round 7 "fetch"), so a long wait delays records and a short one makes ~100 empty fetches of every assigned
partition per idle second (~45 ms of worker CPU and ~80 ms of the broker's). Apache Kafka answers at once, so
there the wait only bounds idle round trips.

Hence :class:`IdleWait`: every fetch uses the short wait while records keep arriving; once none has arrived for a
while, the wait grows with the time since the last one (a fixed share of it, up to ``fetch_idle_wait_ms``). On
Tansu the first record after a quiet spell then waits at most about half that share of the spell more than it
would have; a steady flow never sees a long poll, so its latency stays that of the short wait.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faust_patches import patching

IDLE_SHARE = 0.05
"""The idle wait as a share of the time since the last records: on Tansu a record after a quiet spell of ``s``
waits up to ~``s * IDLE_SHARE / 2`` more (25 ms after a second, the 500 ms cap's 250 ms after ten)."""


@dataclass
class IdleWait:
    """The wait of the next fetch: ``busy_ms`` after a fetch that found records, longer the longer none has."""

    busy_ms: int
    idle_ms: int
    share: float = IDLE_SHARE
    _last_records: float | None = field(default=None, repr=False)

    def after_fetch(self, found: bool, now: float) -> int:
        """The wait for the fetch after one that ended at ``now`` (monotonic seconds), having ``found`` records."""
        if found or self._last_records is None:
            self._last_records = now
            return self.busy_ms
        quiet_ms = 1000.0 * (now - self._last_records)
        return int(min(max(self.idle_ms, self.busy_ms), max(self.busy_ms, quiet_ms * self.share)))


def adapt(fetcher: Any, policy: IdleWait) -> None:
    """Make ``fetcher`` (an aiokafka ``Fetcher``) set its next fetch's wait from ``policy`` after every fetch.

    Only this fetcher changes (an instance attribute in front of the class's method): the fetcher routine calls
    ``self._proc_fetch_request``, which returns True when it buffered records (or an error) for the consumer, and
    builds every request from ``self._fetch_max_wait_ms``. Records fetched but not yet consumed do not count:
    an idle Faust worker keeps some buffered for good (counting them kept its wait at the short one). aiokafka
    leaves such partitions out of the next fetch, so when a stalled consumer takes them at last, their next records
    can wait behind a poll of the others; that poll waits at most ``share`` of the time since records last came.
    """
    original: Callable[..., Awaitable[bool]] = fetcher._proc_fetch_request

    async def _proc_fetch_request(assignment: Any, node_id: int, request: Any) -> bool:
        found = await original(assignment, node_id, request)
        fetcher._fetch_max_wait_ms = policy.after_fetch(bool(found), time.monotonic())
        return found

    fetcher._proc_fetch_request = _proc_fetch_request


def adapting(consumer: Any, busy_ms: int, idle_ms: int) -> None:
    """Have ``consumer`` (an aiokafka consumer not yet started) adapt its fetcher's wait once it has started."""
    start: Callable[[], Awaitable[None]] = consumer.start

    async def started() -> None:
        await start()
        adapt(consumer._fetcher, IdleWait(busy_ms, idle_ms))

    consumer.start = started


def with_fetch_wait(
    fetch_max_wait_ms: int, fetch_min_bytes: int, fetch_idle_wait_ms: int | None = None
) -> Callable[[Any], Callable[..., Any]]:
    """A replacement for ``AIOKafkaConsumerThread._create_worker_consumer`` that sets the given fetch wait
    (growing up to ``fetch_idle_wait_ms`` while idle, when that is longer)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def _create_worker_consumer(self: Any, transport: Any) -> Any:
            consumer = original(self, transport)
            # aiokafka reads these attributes when it builds its Fetcher at start().
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            consumer._fetch_min_bytes = fetch_min_bytes
            if fetch_idle_wait_ms is not None and fetch_idle_wait_ms > fetch_max_wait_ms:
                adapting(consumer, fetch_max_wait_ms, fetch_idle_wait_ms)
            return consumer

        return _create_worker_consumer

    return make


def install(*, fetch_max_wait_ms: int, fetch_min_bytes: int = 1, fetch_idle_wait_ms: int | None = None) -> None:
    """Give every worker consumer built from now on this fetch wait, minimum fetch size and idle wait."""
    patching.replace(
        AIOKafkaConsumerThread,
        "_create_worker_consumer",
        with_fetch_wait(fetch_max_wait_ms, fetch_min_bytes, fetch_idle_wait_ms),
    )
