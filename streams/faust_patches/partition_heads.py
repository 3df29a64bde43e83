"""Partition heads: where the commit of a partition must start, and a seek back over events the consumer dropped.

Two faults of faust-streaming 0.15.3 around the seek to the committed offset that follows a rebalance, found by
the chaos suite (RELIABILITY.md, "The lost results"):

- A message fetched before the seek can reach the drain loop after it; the loop then sets its read offset to that
  message's offset and drops the re-fetched events below it as "already read". They are never delivered to a
  stream until the partition is sought again.
- With nothing committed on a partition yet (Faust also reads a committed offset of 0 as "none"), the commit rule
  had no head to check: the first run of acked offsets was committed even when it started after those dropped
  events, so they were lost for good.

:func:`head` gives the commit its head: the committed offset, else the partition's earliest offset, recorded when
Faust seeks after an assignment (:func:`install` wraps ``Consumer.perform_seek``); unknown means "do not commit".
:func:`watch_hole` turns the drop into a bounded delay: when the head has not been acked and no delivered event
below the acked ones is still being processed, the events in between were dropped; once that has lasted
``HOLE_GRACE_S`` the partition is sought back to its head, so they are delivered again (events already finished
are recognised by the ledger and acked at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from faust.transport.consumer import Consumer

from streams.faust_patches import patching

log = logging.getLogger(__name__)

HOLE_GRACE_S = 5.0
"""How long a hole below the acked offsets must last before the partition is sought back (a few commit ticks)."""


def head(consumer: Any, tp: Any) -> int | None:
    """The offset the commit of ``tp`` must start at: the committed one, else the recorded earliest offset."""
    committed: int | None = consumer._committed_offset[tp]
    if committed is not None:
        return committed
    heads: dict[Any, int] = consumer.__dict__.get("_sg_heads", {})
    return heads.get(tp)


def watch_hole(consumer: Any, tp: Any, head_offset: int, first_acked: int, now: float | None = None) -> bool:
    """Note that ``tp``'s head is not acked while ``first_acked`` is; True when this call sought back to the head.

    A delivered event below ``first_acked`` that is still being processed will fill the hole itself: no seek.
    """
    holes: dict[Any, float] = consumer.__dict__.setdefault("_sg_holes", {})
    if any(m.tp == tp and not m.acked and m.offset < first_acked for m in consumer._unacked_messages):
        holes.pop(tp, None)
        return False
    moment = time.monotonic() if now is None else now
    since = holes.setdefault(tp, moment)
    if moment - since < HOLE_GRACE_S:
        return False
    holes.pop(tp, None)
    log.warning(
        "offsets %d..%d of %s were dropped by the consumer after a seek; seeking back to %d",
        head_offset,
        first_acked - 1,
        tp,
        head_offset,
    )
    tasks: set[asyncio.Task[Any]] = consumer.__dict__.setdefault("_sg_seeks", set())
    task = asyncio.ensure_future(consumer.seek(tp, head_offset))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return True


def clear_hole(consumer: Any, tp: Any) -> None:
    """``tp``'s head is acked (or nothing is pending): forget a hole being watched."""
    holes: dict[Any, float] = consumer.__dict__.get("_sg_holes", {})
    holes.pop(tp, None)


def _recording_heads(original: Callable[..., Any]) -> Callable[..., Any]:
    async def perform_seek(self: Any) -> None:
        await original(self)
        fresh = [tp for tp in self.assignment() if self._committed_offset.get(tp) is None]
        if not fresh:
            return
        heads: dict[Any, int] = self.__dict__.setdefault("_sg_heads", {})
        try:
            heads.update(await self.earliest_offsets(*fresh))
        except Exception as exc:  # no head known: those partitions are not committed until a later seek finds one
            log.warning("could not read the earliest offsets of %d partitions: %s", len(fresh), exc)

    return perform_seek


def install() -> None:
    """Record each never-committed partition's earliest offset whenever Faust seeks to the committed offsets."""
    patching.replace(Consumer, "perform_seek", _recording_heads)


def uninstall() -> None:
    """Faust's own ``perform_seek`` again (with upstream's commit logic, for the test that shows the loss)."""
    patching.restore(Consumer, "perform_seek")
