"""Commit safety: never commit at or beyond an event still being processed (faust-streaming issue #606).

``Consumer._new_offset`` decides which offset to commit from the run of acked offsets. In faust-streaming 0.15.3
its head-gap check (``min(acked) - committed > 1``) is off by one and is skipped when nothing has been committed
yet, so with more than one event in flight per partition it can commit past an event that is still being
processed; after a crash that event is never seen again (fix proposed upstream in PR #707, unreleased). Our
replacement never commits at or beyond the smallest offset delivered to a stream and not yet acked, and never
before the partition's head is acked (:mod:`~streams.faust_patches.partition_heads`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.transport.consumer import Consumer
from faust.utils.functional import consecutive_numbers

from streams.faust_patches import partition_heads, patching


def safe_new_offset(self: Any, tp: Any) -> int | None:
    """The offset to commit for ``tp``: the end of the first run of acked offsets, clamped below every unacked one.

    Replaces ``faust.transport.consumer.Consumer._new_offset``. Acked offsets past the clamp stay in the acked list
    so they are committed once the events before them finish. Offsets Faust marked as a gap are not acked.
    """
    acked: list[int] = self._acked[tp]
    if not acked:
        return None
    # Faust records a "gap" (offsets it believes the broker never delivered, which its own logic counts as acked)
    # whenever a message arrives beyond its read offset. The chaos suite caught it doing so right after the seek
    # to the committed offset that follows a rebalance (admit-topic gaps of 5 to 260 offsets of events that had
    # not been processed), and committing across them lost those requests for good. Our topics are never
    # compacted or transactional, so a real gap cannot occur on them: gaps are dropped, never counted as acked.
    self._gap.pop(tp, None)
    acked.sort()
    start = partition_heads.head(self, tp)
    if start is None:
        # Nothing committed and the partition's first offset unknown: committing now could pass its head.
        return None
    if acked[0] > start:
        # The event at the head (the next one to read) has not been acked yet: in flight, or dropped by the
        # consumer after a seek, which partition_heads repairs by seeking back.
        partition_heads.watch_hole(self, tp, start, acked[0])
        return None
    partition_heads.clear_hole(self, tp)
    # Faust's ack() leaves some acked messages in _unacked_messages (a copy below the committed offset, or a
    # duplicate of an offset already acked); they are finished and must not hold the commit back.
    floor = min((m.offset for m in self._unacked_messages if m.tp == tp and not m.acked), default=None)
    batch = [offset for offset in next(consecutive_numbers(acked)) if floor is None or offset < floor]
    if not batch:
        return None
    del acked[: len(batch)]
    self._acked_index[tp].difference_update(batch)
    return batch[-1] + 1


def _safe(original: Callable[..., Any]) -> Callable[..., Any]:
    # Upstream's method is not called; patching keeps it as __wrapped__ so upstream_logic can restore it.
    def _new_offset(self: Any, tp: Any) -> int | None:
        return safe_new_offset(self, tp)

    return _new_offset


def install(*, upstream_logic: bool = False) -> None:
    """Commit with :func:`safe_new_offset`; ``upstream_logic`` keeps Faust's own, which exists only so a test can
    show the event loss this correction prevents."""
    if upstream_logic:
        patching.restore(Consumer, "_new_offset")
        partition_heads.uninstall()
    else:
        patching.replace(Consumer, "_new_offset", _safe)
        partition_heads.install()
