"""The changelog barrier: no offset commit and no partition release ahead of the table writes made before it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from faust.tables.base import Collection
from faust.transport.consumer import Consumer

from streams.faust_patches import changelog_barrier
from streams.faust_patches.changelog_barrier import ChangelogBarrier, hold_revocations, install, uninstall


@pytest.fixture
def restore_faust() -> Iterator[None]:
    """Faust's methods and the module's memory of them, as they were before the test."""
    send_changelog, commit_offsets = Collection.send_changelog, Consumer._commit_offsets
    saved = dict(changelog_barrier._state)
    changelog_barrier._state.clear()
    yield
    uninstall()
    Collection.send_changelog = send_changelog  # type: ignore[method-assign]
    Consumer._commit_offsets = commit_offsets  # type: ignore[method-assign]
    changelog_barrier._state.update(saved)


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


@pytest.mark.usefixtures("restore_faust")
async def test_installed_a_commit_waits_for_earlier_changelog_sends() -> None:
    barrier = ChangelogBarrier()
    sent: list[asyncio.Future[None]] = []
    committed: list[Any] = []

    def send_changelog(self: Any, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        sent.append(future())
        return sent[-1]

    async def commit_offsets(self: Any, offsets: Any, *args: Any, **kwargs: Any) -> bool:
        committed.append(offsets)
        return True

    Collection.send_changelog = send_changelog  # type: ignore[method-assign]
    Consumer._commit_offsets = commit_offsets  # type: ignore[method-assign]
    install(barrier, commit_timeout_s=0.05)
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

    hold_revocations(App(), barrier, timeout_s=5)
    write = future()
    barrier.track(write)
    (receiver,) = receivers
    releasing = asyncio.ensure_future(receiver(App(), {"tp"}))
    await asyncio.sleep(0.01)
    assert not releasing.done()
    write.set_result(None)
    await asyncio.wait_for(releasing, timeout=1)
