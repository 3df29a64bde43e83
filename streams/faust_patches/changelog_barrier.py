"""Commit an offset, or hand a partition over, only once the table writes made before it are on the broker.

Faust sends a table's changelog records through a producer buffer nothing waits for. It commits an event's offset
as soon as the event is acked, and on a rebalance it stops flushing that buffer after a 0.1 s stall. So a worker
that is killed, or loses a partition, at the wrong moment leaves an offset committed (or a partition's new owner
recovering the table) without a table write the event made: a budget or rate count that no replay restores.
(The over-admission seen after partition moves had another cause, :mod:`streams.faust_patches.end_offsets`; this
closes the remaining window.)

:class:`ChangelogBarrier` tracks every changelog record in flight. Before offsets are committed, and before a
revoked partition is released, it waits for the records sent until then to be acknowledged by the broker.

A record that failed (the producer refused it, its batch expired, it was cancelled with the app) is never
counted as acknowledged: the table in memory then holds a write its changelog lacks, so from then on this worker
commits no offset (logged as an error each time). Its events since the last commit are replayed by whichever
worker next owns the partition, on tables recovered from the changelog: the same recovery as after a crash.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

from faust.tables.base import Collection
from faust.transport.consumer import Consumer

from streams.faust_patches import patching
from streams.faust_patches.direct_send import OUTBOX, ChangelogOutbox, kafka_producer

log = logging.getLogger(__name__)


class ChangelogBarrier:
    """The changelog sends in flight, and a way to wait for the ones made so far."""

    def __init__(self) -> None:
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.failed = 0
        """Changelog records that failed since start: any makes every later :meth:`wait` False."""

    def __len__(self) -> int:
        """How many changelog records are not yet acknowledged."""
        return len(self._in_flight)

    def track(self, future: asyncio.Future[Any]) -> None:
        """Remember ``future`` (a changelog send) until it resolves; a failed one is counted in :attr:`failed`."""
        if future.done():
            self._settled(future)
        else:
            self._in_flight.add(future)
            future.add_done_callback(self._settled)

    def _settled(self, future: asyncio.Future[Any]) -> None:
        self._in_flight.discard(future)
        if future.cancelled() or future.exception() is not None:
            self.failed += 1

    async def wait(self, timeout_s: float) -> bool:
        """Wait for the records in flight now (not later ones); False if some were not acknowledged in time, or if
        any record ever failed."""
        snapshot = [future for future in self._in_flight if not future.done()]
        if snapshot:
            _, pending = await asyncio.wait(snapshot, timeout=timeout_s)
            if pending or any(future.cancelled() or future.exception() is not None for future in snapshot):
                return False
        return self.failed == 0


BARRIER = ChangelogBarrier()
_held_apps: weakref.WeakSet[Any] = weakref.WeakSet()


def install(
    barrier: ChangelogBarrier = BARRIER, *, commit_timeout_s: float = 10.0, outbox: ChangelogOutbox = OUTBOX
) -> None:
    """Track every table's changelog sends in ``barrier`` and hold each offset commit until they are acknowledged.

    A commit whose records are still unacknowledged after ``commit_timeout_s`` is skipped (logged); the offsets
    are committed at the next interval, so events may be replayed but no table write is ever lost behind a commit.
    Once the producer runs, the records go through ``outbox`` (:mod:`~streams.faust_patches.direct_send`) instead
    of Faust's producer buffer: the same records, partitions and order, for less CPU.
    """
    patching.replace(Collection, "send_changelog", lambda original: _tracking(original, barrier, outbox))
    patching.replace(Consumer, "_commit_offsets", lambda original: _after_barrier(original, barrier, commit_timeout_s))


def uninstall() -> None:
    """Restore Faust's own methods (upstream commit logic, tests)."""
    patching.restore(Collection, "send_changelog")
    patching.restore(Consumer, "_commit_offsets")


def _tracking(original: Callable[..., Any], barrier: ChangelogBarrier, outbox: ChangelogOutbox) -> Callable[..., Any]:
    def send_changelog(
        self: Any,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Any:
        producer = kafka_producer(getattr(self, "app", None))
        if producer is None or partition is None or self.app.in_transaction:  # not started, no partition yet
            future = original(self, partition, key, value, key_serializer, value_serializer)
        else:
            future = outbox.put(producer, self, partition, key, value, key_serializer, value_serializer)
        barrier.track(future)
        return future

    return send_changelog


def _after_barrier(original: Callable[..., Any], barrier: ChangelogBarrier, timeout_s: float) -> Callable[..., Any]:
    async def _commit_offsets(self: Any, offsets: Any, *args: Any, **kwargs: Any) -> Any:
        if not await barrier.wait(timeout_s):
            if barrier.failed:
                log.error(
                    "%d changelog records failed: this worker commits no offset again (a restart recovers its tables "
                    "from the changelog and replays the events since the last commit)",
                    barrier.failed,
                )
            else:
                log.warning("changelog records unacknowledged after %.1f s: offsets not committed this time", timeout_s)
            return False
        return await original(self, offsets, *args, **kwargs)

    return _commit_offsets


def hold_revocations(app: Any, barrier: ChangelogBarrier = BARRIER, *, timeout_s: float) -> None:
    """On every revocation, wait until the table writes made so far are on the broker before the partitions go
    (Faust awaits ``on_partitions_revoked`` receivers before it rejoins), so their new owner recovers them.
    Once per app: holding it again is a no-op."""
    if app in _held_apps:
        return
    _held_apps.add(app)

    async def before_release(sender: Any, revoked: Any, **_: Any) -> None:
        await _drain(barrier, timeout_s)

    app.on_partitions_revoked.connect(before_release)


async def _drain(barrier: ChangelogBarrier, timeout_s: float) -> None:
    if not await barrier.wait(timeout_s):
        log.warning(
            "revoking partitions with %d changelog records unacknowledged after %.1f s", len(barrier), timeout_s
        )
