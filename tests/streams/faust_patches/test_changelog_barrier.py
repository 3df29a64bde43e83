"""The changelog barrier: no offset commit and no partition release ahead of the table writes made before it."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.tables.base import Collection
from faust.transport.consumer import Consumer

from streams.faust_patches.changelog_barrier import ChangelogBarrier, hold_revocations, install, uninstall


def future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


async def test_wait_covers_the_records_sent_so_far_and_not_later_ones() -> None:
    barrier = ChangelogBarrier()
    first, later = future(), future()
    barrier.track(first)
    waiting = asyncio.ensure_future(barrier.wait(timeout_s=5))
    await asyncio.sleep(0)
    barrier.track(later)  # sent after the commit decision: not waited for
    assert not waiting.done()
    first.set_result(None)
    assert await waiting is True
    assert len(barrier) == 1
    later.set_result(None)
    await asyncio.sleep(0)
    assert len(barrier) == 0


async def test_wait_reports_records_not_acknowledged_in_time() -> None:
    barrier = ChangelogBarrier()
    barrier.track(future())
    assert await barrier.wait(timeout_s=0.01) is False
    assert await ChangelogBarrier().wait(timeout_s=0.01) is True


async def test_a_failed_record_is_never_counted_as_acknowledged() -> None:
    barrier = ChangelogBarrier()
    refused, expired, cancelled = future(), future(), future()
    refused.set_exception(RuntimeError("producer stopped"))
    barrier.track(refused)  # failed before it was tracked
    barrier.track(expired)
    barrier.track(cancelled)
    waiting = asyncio.ensure_future(barrier.wait(timeout_s=5))
    await asyncio.sleep(0)
    expired.set_exception(TimeoutError("batch expired"))
    cancelled.cancel()
    assert await waiting is False
    assert barrier.failed == 3 and len(barrier) == 0
    assert await barrier.wait(timeout_s=0.01) is False  # and no commit passes it later either


async def test_a_commit_after_a_failed_record_is_refused() -> None:
    barrier = ChangelogBarrier()
    committed: list[Any] = []

    async def commit_offsets(self: Any, offsets: Any, *args: Any, **kwargs: Any) -> bool:
        committed.append(offsets)
        return True

    Consumer._commit_offsets = commit_offsets  # type: ignore[method-assign]
    install(barrier, commit_timeout_s=0.05)
    try:
        failed = future()
        barrier.track(failed)
        failed.set_exception(RuntimeError("refused"))
        await asyncio.sleep(0)
        assert await Consumer._commit_offsets(object(), {"tp": 9}) is False  # type: ignore[arg-type]
        assert committed == []
    finally:
        uninstall()


async def test_upstream_commits_ahead_of_its_changelog_sends_and_ours_waits_for_them() -> None:
    barrier = ChangelogBarrier()
    sent: list[asyncio.Future[None]] = []
    committed: list[Any] = []

    def send_changelog(self: Any, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        sent.append(future())
        return sent[-1]

    async def commit_offsets(self: Any, offsets: Any, *args: Any, **kwargs: Any) -> bool:
        committed.append(offsets)
        return True

    # Stand-ins for upstream's methods, which need a started app: the send is not awaited, the commit is immediate.
    Collection.send_changelog = send_changelog  # type: ignore[method-assign]
    Consumer._commit_offsets = commit_offsets  # type: ignore[method-assign]
    Collection.send_changelog(object(), 3, b"k", b"v")  # type: ignore[arg-type]
    assert await Consumer._commit_offsets(object(), {"tp": 9}) is True  # type: ignore[arg-type]
    assert committed == [{"tp": 9}] and not sent[0].done()  # upstream: committed ahead of its table write
    committed.clear()
    sent.clear()
    install(barrier, commit_timeout_s=0.05)
    install(barrier, commit_timeout_s=0.05)  # again: still one layer over the methods it replaced
    assert Consumer._commit_offsets.__wrapped__ is commit_offsets  # type: ignore[attr-defined]
    Collection.send_changelog(object(), 3, b"k", b"v")  # type: ignore[arg-type]
    assert len(barrier) == 1
    assert await Consumer._commit_offsets(object(), {"tp": 10}) is False  # type: ignore[arg-type]
    assert committed == []  # skipped: the table write could still be lost
    sent[0].set_result(None)
    assert await Consumer._commit_offsets(object(), {"tp": 10}) is True  # type: ignore[arg-type]
    assert committed == [{"tp": 10}]
    uninstall()
    assert Collection.send_changelog is send_changelog and Consumer._commit_offsets is commit_offsets


async def test_a_revocation_is_held_until_the_table_writes_are_acknowledged() -> None:
    barrier = ChangelogBarrier()
    receivers: list[Any] = []

    class Signal:
        def connect(self, fun: Any) -> None:
            receivers.append(fun)

    class App:
        on_partitions_revoked = Signal()

    app = App()
    hold_revocations(app, barrier, timeout_s=5)
    hold_revocations(app, barrier, timeout_s=5)  # once per app
    assert len(receivers) == 1
    write = future()
    barrier.track(write)
    (receiver,) = receivers
    releasing = asyncio.ensure_future(receiver(app, {"tp"}))
    await asyncio.sleep(0.01)
    assert not releasing.done()
    write.set_result(None)
    await asyncio.wait_for(releasing, timeout=1)
