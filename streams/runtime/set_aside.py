"""Setting an event aside: dead-letter it and ack it, so no failure path leaves a partition stalled behind it.

A dead letter keeps at most ``max_dead_letter_bytes`` of the event; if it still cannot be sent, a minimal one (no
raw bytes, only size and digest) is tried, and if even that fails the event is logged, counted in
``streamgate_undeliverable_total`` and acked, so its partition's committed offset moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from streams.runtime import metrics
from streams.runtime.dead_letters import dead_letter
from streams.runtime.delivery import after_delivery, send, undeliverable

log = logging.getLogger(__name__)


class SetAside:
    """Dead-letters events of one worker to its dead-letter topic."""

    def __init__(self, dlq: Any, *, max_dead_letter_bytes: int) -> None:
        self._dlq = dlq
        self._max_bytes = max_dead_letter_bytes
        # Dead letters started from delivery callbacks (the loop keeps only weak references to tasks).
        self._pending: set[asyncio.Task[None]] = set()

    async def letter(self, event: Any, reason: str, detail: str, *, minimal: bool = False) -> None:
        """Dead-letter ``event`` and ack it once the letter is on the broker; never leave it unacked for good."""
        metrics.DEAD_LETTERS.labels(reason=reason).inc()
        message = event.message
        limit = 0 if minimal else self._max_bytes
        try:
            future = await send(self._dlq, message.key, dead_letter(message, reason, detail, max_raw_bytes=limit))
        except Exception as exc:
            self._give_up_or_retry(event, reason, detail, exc, minimal=minimal)
            return

        def failed(exc: BaseException) -> None:
            if undeliverable(exc) or minimal:
                self._give_up_or_retry(event, reason, detail, exc, minimal=minimal)

        after_delivery([future], event.ack, what=f"dead letter of offset {message.offset}", on_failed=failed)

    def if_undeliverable(self, event: Any, what: str) -> Callable[[BaseException], None]:
        """An ``on_failed`` for :func:`after_delivery`: a send that can never succeed dead-letters the source event
        (which is then acked); a retriable failure leaves it unacked, to be replayed."""

        def failed(exc: BaseException) -> None:
            if undeliverable(exc):
                self._spawn(self.letter(event, "undeliverable", f"{what} could not be sent: {type(exc).__name__}"))

        return failed

    def _give_up_or_retry(self, event: Any, reason: str, detail: str, exc: BaseException, *, minimal: bool) -> None:
        if not minimal:
            self._spawn(self.letter(event, reason, detail, minimal=True))
            return
        message = event.message
        log.error(
            "dropping %s offset %s: not even a minimal dead letter could be sent: %r",
            message.topic,
            message.offset,
            exc,
        )
        metrics.UNDELIVERABLE.inc()
        event.ack()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
