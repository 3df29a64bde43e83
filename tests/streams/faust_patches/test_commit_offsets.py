"""The commit fix (``safe_new_offset``) on a fake consumer, upstream's ``_new_offset`` on the same state for
contrast (faust-streaming issue #606), and how :func:`commit_offsets.install` installs it."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from faust.transport.consumer import Consumer
from faust.types import TP
from intervaltree import IntervalTree  # type: ignore[import-untyped]

from streams.faust_patches import commit_offsets, partition_heads, patching
from streams.faust_patches.commit_offsets import safe_new_offset

NewOffset = Callable[[Any, TP], "int | None"]
PART = TP("llm.requests", 0)
OTHER = TP("llm.requests", 1)


class FakeMessage:
    """What the consumer tracks of a delivered message (hashable by identity, like Faust's)."""

    def __init__(self, tp: TP, offset: int) -> None:
        self.tp = tp
        self.offset = offset
        self.acked = False


class FakeConsumer:
    """The state ``_new_offset`` reads; ``deliver``/``ack``/``commit`` follow faust's Consumer step for step."""

    def __init__(self) -> None:
        self._acked: defaultdict[TP, list[int]] = defaultdict(list)
        self._acked_index: defaultdict[TP, set[int]] = defaultdict(set)
        self._gap: defaultdict[TP, IntervalTree] = defaultdict(IntervalTree)
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self._unacked_messages: set[FakeMessage] = set()
        # What partition_heads records at the seek after an assignment: these partitions start at offset 0.
        self._sg_heads: dict[TP, int] = {PART: 0, OTHER: 0}
        self.seeks: list[tuple[TP, int]] = []

    async def seek(self, tp: TP, offset: int) -> None:
        """``Consumer.seek``: remembered, so a test sees the partition sought back."""
        self.seeks.append((tp, offset))

    def deliver(self, tp: TP, *offsets: int) -> dict[int, FakeMessage]:
        """``Consumer.track_message`` for each offset."""
        messages = {offset: FakeMessage(tp, offset) for offset in offsets}
        self._unacked_messages.update(messages.values())
        return messages

    def ack(self, *messages: FakeMessage) -> None:
        """``Consumer.ack``: an offset below the committed one, or already acked, stays in the unacked set."""
        for message in messages:
            if message.acked:
                continue
            message.acked = True
            committed = self._committed_offset[message.tp]
            if (committed is None or message.offset >= committed) and message.offset not in self._acked_index[
                message.tp
            ]:
                self._unacked_messages.discard(message)
                self._acked_index[message.tp].add(message.offset)
                self._acked[message.tp].append(message.offset)

    def skip(self, tp: TP, begin: int, end: int) -> None:
        """``Consumer._add_gap``: offsets ``[begin, end)`` were never delivered (compaction, txn markers)."""
        self._gap[tp].addi(begin, end)

    def commit(self, new_offset: NewOffset, tp: TP = PART) -> int | None:
        """``_filter_committable_offsets`` + ``_should_commit`` + the commit: the offset committed, if any."""
        offset = new_offset(self, tp)
        committed = self._committed_offset[tp]
        if offset is not None and (committed is None or (bool(offset) and offset > committed)):
            self._committed_offset[tp] = offset
            return offset
        return None


def upstream_new_offset() -> NewOffset:
    """faust-streaming 0.15.3's own ``Consumer._new_offset``, whether or not the fix is installed right now."""
    original: NewOffset = patching.upstream(Consumer, "_new_offset")
    assert original.__module__ == "faust.transport.consumer"
    return original


# --- the commit fix ---------------------------------------------------------------------------------------------


def test_nothing_acked_means_nothing_to_commit() -> None:
    consumer = FakeConsumer()
    consumer.deliver(PART, 0, 1)
    assert consumer.commit(safe_new_offset) is None


def test_first_commit_waits_for_an_unacked_head_event() -> None:
    consumer = FakeConsumer()
    m = consumer.deliver(PART, 0, 1, 2)
    consumer.ack(m[1], m[2])
    assert consumer.commit(safe_new_offset) is None
    assert consumer._acked[PART] == [1, 2]  # kept for later
    consumer.ack(m[0])
    assert consumer.commit(safe_new_offset) == 3


def test_upstream_first_commit_skips_past_the_unfinished_event() -> None:
    consumer = FakeConsumer()
    m = consumer.deliver(PART, 0, 1, 2)
    consumer.ack(m[1], m[2])
    # Issue #606: with no previous commit the head-gap check is skipped, so offset 0 (still being processed)
    # is committed past and would never be seen again after a crash.
    assert consumer.commit(upstream_new_offset()) == 3
    assert not m[0].acked


def test_after_a_commit_the_event_at_the_committed_offset_holds_the_commit() -> None:
    consumer = FakeConsumer()
    consumer._committed_offset[PART] = 10
    m = consumer.deliver(PART, 10, 11, 12)
    consumer.ack(m[11], m[12])
    assert consumer.commit(safe_new_offset) is None
    consumer.ack(m[10])
    assert consumer.commit(safe_new_offset) == 13


def test_upstream_commits_past_the_event_right_after_the_committed_offset() -> None:
    consumer = FakeConsumer()
    consumer._committed_offset[PART] = 10
    m = consumer.deliver(PART, 10, 11, 12)
    consumer.ack(m[11], m[12])
    # The head-gap check is `min(acked) - committed > 1`: 11 - 10 == 1 passes, although 10 is unacked.
    assert consumer.commit(upstream_new_offset()) == 13
    assert not m[10].acked


def test_acked_offsets_past_a_gap_are_kept_and_committed_once_it_closes() -> None:
    consumer = FakeConsumer()
    m = consumer.deliver(PART, 0, 1, 2, 3, 4)
    consumer.ack(m[0], m[1], m[3], m[4])
    assert consumer.commit(safe_new_offset) == 2
    assert consumer._acked[PART] == [3, 4] and consumer._acked_index[PART] == {3, 4}
    assert consumer.commit(safe_new_offset) is None
    consumer.ack(m[2])
    assert consumer.commit(safe_new_offset) == 5
    assert consumer._acked[PART] == [] and consumer._acked_index[PART] == set()


def test_a_redelivered_copy_in_flight_clamps_an_acked_run() -> None:
    consumer = FakeConsumer()
    first = consumer.deliver(PART, 0, 1, 2, 3)
    consumer.ack(*first.values())
    copy = consumer.deliver(PART, 2)[2]  # replayed (e.g. after a rebalance) while its first copy was acked
    assert consumer.commit(safe_new_offset) == 2  # never at or beyond the offset still being processed
    assert consumer._acked[PART] == [2, 3]
    assert consumer.commit(safe_new_offset) is None
    consumer.ack(copy)  # Faust leaves it in the unacked set (offset already acked) but marks it acked
    assert consumer.commit(safe_new_offset) == 4


def test_upstream_ignores_a_redelivered_copy_in_flight() -> None:
    consumer = FakeConsumer()
    consumer.ack(*consumer.deliver(PART, 0, 1, 2, 3).values())
    copy = consumer.deliver(PART, 2)[2]
    assert consumer.commit(upstream_new_offset()) == 4
    assert not copy.acked


def test_an_acked_message_left_in_the_unacked_set_does_not_stall_commits() -> None:
    consumer = FakeConsumer()
    first = consumer.deliver(PART, 0, 1)
    consumer.ack(*first.values())
    assert consumer.commit(safe_new_offset) == 2
    stale = consumer.deliver(PART, 1)[1]  # a copy below the committed offset
    later = consumer.deliver(PART, 2, 3)
    consumer.ack(stale, *later.values())
    assert stale in consumer._unacked_messages and stale.acked  # what Faust's ack() does with it
    assert consumer.commit(safe_new_offset) == 4


def test_a_gap_faust_records_is_never_counted_as_acked() -> None:
    # Faust marks 2..4 as "never delivered" (as it did, wrongly, after a rebalance's seek): events there may still
    # be unprocessed, so the commit stops before them and the gap is forgotten.
    consumer = FakeConsumer()
    m = consumer.deliver(PART, 0, 1)
    consumer.skip(PART, 2, 5)
    m.update(consumer.deliver(PART, 5, 6))
    consumer.ack(m[0], m[1], m[5], m[6])
    assert consumer.commit(safe_new_offset) == 2
    assert not consumer._gap[PART]
    assert consumer._acked[PART] == [5, 6]
    assert consumer.commit(safe_new_offset) is None  # 2 is not acked: nothing past it is committed


def test_unacked_events_of_another_partition_do_not_clamp() -> None:
    consumer = FakeConsumer()
    consumer._sg_heads[PART] = 5  # its earlier offsets are gone (retention): the partition starts at 5
    consumer.deliver(OTHER, 0)
    consumer.ack(*consumer.deliver(PART, 5, 6).values())
    assert consumer.commit(safe_new_offset) == 7
    assert consumer.commit(safe_new_offset, OTHER) is None


# --- the partition's head (partition_heads) ---------------------------------------------------------------------


def test_a_never_committed_partition_with_no_known_head_is_not_committed() -> None:
    consumer = FakeConsumer()
    del consumer._sg_heads[PART]
    consumer.ack(*consumer.deliver(PART, 0, 1).values())
    assert consumer.commit(safe_new_offset) is None
    consumer._sg_heads[PART] = 0  # the seek after the next assignment records it
    assert consumer.commit(safe_new_offset) == 2


async def test_events_the_consumer_dropped_after_a_seek_are_never_committed_past_and_are_sought_back() -> None:
    # The chaos suite's lost results: nothing committed yet, a message fetched before the rebalance's seek (13)
    # moved Faust's read offset, and the re-fetched 0..12 were dropped as "already read". Upstream's logic and the
    # old rule committed 15, losing them; now the commit waits at the head and, once no delivered event below 13
    # is still being processed, the partition is sought back so they are delivered again.
    consumer = FakeConsumer()
    later = consumer.deliver(PART, 13, 14)
    consumer.ack(*later.values())
    assert consumer.commit(upstream_new_offset()) == 15  # the loss, for contrast
    consumer = FakeConsumer()
    consumer.ack(*consumer.deliver(PART, 13, 14).values())
    assert partition_heads.head(consumer, PART) == 0
    assert consumer.commit(safe_new_offset) is None
    assert consumer.seeks == []  # a hole must last HOLE_GRACE_S before anything is done
    assert partition_heads.watch_hole(consumer, PART, 0, 13, now=time.monotonic() + partition_heads.HOLE_GRACE_S)
    await asyncio.sleep(0)
    assert consumer.seeks == [(PART, 0)]
    again = consumer.deliver(PART, *range(13))  # re-delivered from the head after the seek
    consumer.ack(*again.values())
    assert consumer.commit(safe_new_offset) == 15


def test_an_event_in_flight_below_the_acked_ones_is_no_hole() -> None:
    consumer = FakeConsumer()
    consumer._committed_offset[PART] = 10
    m = consumer.deliver(PART, 10, 11)
    consumer.ack(m[11])
    late = time.monotonic() + 10 * partition_heads.HOLE_GRACE_S
    assert consumer.commit(safe_new_offset) is None
    assert not partition_heads.watch_hole(consumer, PART, 10, 11, now=late)  # 10 is being processed: no seek
    assert consumer.seeks == []


async def test_the_seek_after_an_assignment_records_the_heads_of_never_committed_partitions() -> None:
    seen: list[str] = []

    async def upstream_seek(self: Any) -> None:
        seen.append("sought")

    class Assigned(FakeConsumer):
        def assignment(self) -> set[TP]:
            return {PART, OTHER}

        async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
            return {tp: 40 for tp in tps}

    consumer = Assigned()
    consumer.__dict__.pop("_sg_heads")
    consumer._committed_offset[OTHER] = 7  # committed: its head is the committed offset, no lookup
    await partition_heads._recording_heads(upstream_seek)(consumer)
    assert seen == ["sought"] and consumer._sg_heads == {PART: 40}
    assert partition_heads.head(consumer, PART) == 40 and partition_heads.head(consumer, OTHER) == 7


# --- installing it ---------------------------------------------------------------------------------------------


def test_install_replaces_new_offset_once_and_upstream_logic_restores_faust_s() -> None:
    upstream = upstream_new_offset()
    commit_offsets.install()
    installed = Consumer._new_offset
    assert installed is not upstream and installed.__wrapped__ is upstream  # type: ignore[attr-defined]
    commit_offsets.install()  # again (another app in the same process): still one layer over upstream's
    assert Consumer._new_offset.__wrapped__ is upstream  # type: ignore[attr-defined]
    commit_offsets.install(upstream_logic=True)
    assert Consumer._new_offset is upstream


def test_the_installed_method_is_the_safe_one() -> None:
    commit_offsets.install()
    consumer = FakeConsumer()
    m = consumer.deliver(PART, 0, 1, 2)
    consumer.ack(m[1], m[2])
    assert consumer.commit(Consumer._new_offset) is None  # upstream's would commit 3 (see above)
