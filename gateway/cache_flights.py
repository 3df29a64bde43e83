"""Stampede control: concurrent identical cache misses in one worker wait for one provider call.

The first miss of a key leads (its request goes on to the provider); later misses of the same key follow: they
wait for the leader's answer and are served from it. A leader that fails settles with ``None`` and a follower
takes over the lead, so a failure is never fanned out to requests that could still succeed.
"""

from __future__ import annotations

import asyncio

from gateway.cache import CachedAnswer


class MissFlights:
    """Leaders' pending answers by exact-cache key (one event loop)."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[CachedAnswer | None]] = {}

    def __len__(self) -> int:
        """Keys with a leader in flight."""
        return len(self._pending)

    def follow_or_lead(self, key: str) -> asyncio.Future[CachedAnswer | None] | None:
        """The leader's pending answer to wait for, or ``None``: the caller now leads ``key``."""
        pending = self._pending.get(key)
        if pending is not None:
            return pending
        self._pending[key] = asyncio.get_running_loop().create_future()
        return None

    def settle(self, key: str, answer: CachedAnswer | None) -> None:
        """The leader of ``key`` finished: wake its followers with its answer (``None``: one takes over the lead).

        An answer stays findable here until :meth:`forget` (called once it is in the exact cache), so a duplicate
        arriving between the two is still served from it rather than calling again.
        """
        pending = self._pending.get(key)
        if pending is not None and not pending.done():
            pending.set_result(answer)
        if answer is None:
            self.forget(key)

    def forget(self, key: str) -> None:
        """Drop the settled flight of ``key``."""
        self._pending.pop(key, None)
