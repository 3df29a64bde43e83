"""Three corrections to faust-streaming 0.15.3 that streamgate's delivery guarantees and latency depend on.

1. **Commit safety** (upstream issue #606, fix proposed in PR #707, unreleased). ``Consumer._new_offset`` decides
   which offset to commit from the run of acked offsets. Its head-gap check (``min(acked) - committed > 1``) is off
   by one and is skipped when nothing has been committed yet, so with more than one event in flight per partition
   it can commit past an event that is still being processed; after a crash that event is never seen again. Our
   replacement never commits at or beyond the smallest offset that has been delivered to a stream and not acked.
2. **Fetch wait.** Faust hard-codes ``fetch_max_wait_ms=1500`` for its worker consumer. The embedded broker answers
   a waiting fetch by polling, so every topic hop cost ~0.8 s at p50; a short wait brings a hop to ~20 ms.

3. **Recovery end.** Faust reads a changelog up to the broker's ListOffsets answer, which the embedded broker gets
   wrong (:mod:`streams.faust_patches.end_offsets`): recovered tables lost the tail of their changelog. The end
   offsets Faust recovers to are raised to the high watermark of a fetch.

All are applied by :func:`apply_faust_fixes` before the app starts; each checks the method it replaces still has
the shape it was written against, so a Faust upgrade fails loudly instead of silently running unpatched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.utils.functional import consecutive_numbers

from streams.faust_patches.end_offsets import true_end_offsets

SUPPORTED_FAUST_VERSIONS = ("0.15.3",)
_state: dict[str, Any] = {}


def safe_new_offset(self: Any, tp: Any) -> int | None:
    """The offset to commit for ``tp``: the end of the first run of acked offsets, clamped below every unacked one.

    Replaces ``faust.transport.consumer.Consumer._new_offset``. Acked offsets past the clamp stay in the acked list
    so they are committed once the events before them finish.
    """
    acked: list[int] = self._acked[tp]
    if not acked:
        return None
    gap_for_tp = self._gap[tp]
    max_offset = max(acked)
    if gap_for_tp:
        # Offsets the broker never delivered (compaction, transaction markers) count as acked.
        candidates = sorted(gap_for_tp.overlap(0, max_offset), key=lambda interval: interval.begin)
        if candidates:
            filler: list[int] = []
            for interval in candidates:
                filler.extend(range(interval.begin, interval.end))
            acked.extend(filler)
            gap_for_tp.chop(0, max(filler[-1], max_offset + 1))
    acked.sort()
    committed: int | None = self._committed_offset[tp]
    if committed is not None and acked[0] > committed:
        # The event at the committed position (the next one to read) has not been acked yet.
        return None
    # Faust's ack() leaves some acked messages in _unacked_messages (a copy below the committed offset, or a
    # duplicate of an offset already acked); they are finished and must not hold the commit back.
    floor = min((m.offset for m in self._unacked_messages if m.tp == tp and not m.acked), default=None)
    batch = [offset for offset in next(consecutive_numbers(acked)) if floor is None or offset < floor]
    if not batch:
        return None
    del acked[: len(batch)]
    self._acked_index[tp].difference_update(batch)
    return batch[-1] + 1


def _with_fetch_wait(original: Callable[..., Any], fetch_max_wait_ms: int, fetch_min_bytes: int) -> Callable[..., Any]:
    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        # aiokafka reads these attributes when it builds its Fetcher at start().
        consumer._fetch_max_wait_ms = fetch_max_wait_ms
        consumer._fetch_min_bytes = fetch_min_bytes
        return consumer

    create_worker_consumer.__wrapped__ = original  # type: ignore[attr-defined]
    return create_worker_consumer


def _with_true_highwaters(original: Callable[..., Any]) -> Callable[..., Any]:
    async def highwaters(self: Any, partitions: Any) -> Any:
        reported = await original(self, partitions)
        if self.consumer.in_transaction:
            return reported
        return await true_end_offsets(self._ensure_consumer()._client._bootstrap_servers, reported)

    highwaters.__wrapped__ = original  # type: ignore[attr-defined]
    return highwaters


def apply_faust_fixes(*, fetch_max_wait_ms: int, fetch_min_bytes: int = 1, commit_fix: bool = True) -> None:
    """Install the three fixes (idempotent). ``commit_fix=False`` restores upstream's commit logic, which exists only
    so a test can show the event loss the fix prevents."""
    if faust.__version__ not in SUPPORTED_FAUST_VERSIONS:
        raise RuntimeError(
            f"streams.faust_patches.faust_fixes was written against faust-streaming {SUPPORTED_FAUST_VERSIONS}, "
            f"found {faust.__version__}: re-check issue #606 and the hard-coded fetch wait before upgrading"
        )
    consumer_cls = faust_consumer.Consumer
    original_new_offset = _state.setdefault("original_new_offset", consumer_cls._new_offset)
    consumer_cls._new_offset = safe_new_offset if commit_fix else original_new_offset  # type: ignore[method-assign]
    thread_cls = faust_aiokafka.AIOKafkaConsumerThread
    original = _state.setdefault("original_create_worker_consumer", thread_cls._create_worker_consumer)
    thread_cls._create_worker_consumer = _with_fetch_wait(original, fetch_max_wait_ms, fetch_min_bytes)  # type: ignore[method-assign]
    original_highwaters = _state.setdefault("original_highwaters", thread_cls._highwaters)
    thread_cls._highwaters = _with_true_highwaters(original_highwaters)  # type: ignore[method-assign]
