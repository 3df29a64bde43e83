"""Acknowledge a source event only after what it produced has been delivered.

This is the whole of streamgate's at-least-once guarantee across in-process edges: an event's offset may be
committed only once every message derived from it is on the broker (and, with the commit fix in
:mod:`streams.faust_patches.commit_offsets`, only once every earlier event of its partition is acknowledged too).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError

from streams.faust_patches import direct_send, kafka_producer

log = logging.getLogger(__name__)


def after_delivery(
    futures: Iterable[asyncio.Future[Any]],
    on_delivered: Callable[[], None],
    *,
    what: str,
    on_failed: Callable[[BaseException], None] | None = None,
) -> None:
    """Run ``on_delivered`` once every future resolved; log (and leave unacked) when a delivery failed.

    Leaving the source unacked is right for a retriable failure (the broker away: the event is replayed); for one
    that can never succeed (:func:`undeliverable`, a record too large) ``on_failed`` must settle the event.

    The callback runs in a copy of the caller's context, so Faust's ``current_event()`` still names the event
    being processed and table writes made in the callback go to that event's partition.
    """
    gathered = asyncio.gather(*futures)
    context = contextvars.copy_context()

    def done(fut: asyncio.Future[Any]) -> None:
        exc = fut.exception() if not fut.cancelled() else asyncio.CancelledError()
        if exc is None:
            on_delivered()
            return
        log.error("delivery of %s failed; the source event stays unacknowledged and will be replayed: %s", what, exc)
        if on_failed is not None:
            on_failed(exc)

    gathered.add_done_callback(done, context=context)


async def send(topic: Any, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None) -> Any:
    """Queue one message on ``topic`` and return the future that resolves when the broker has it.

    Once the app's producer runs, the record goes straight to it (:mod:`streams.faust_patches.direct_send`: same
    producer, partitioner and batches, without Faust's per-message machinery); before that, through Faust.
    """
    producer = kafka_producer(getattr(topic, "app", None))
    if producer is None:
        return await topic.send(key=key, value=value, headers=headers)
    return await direct_send.send(producer, topic.get_topic_name(), key, value, headers=headers)


def undeliverable(exc: BaseException) -> bool:
    """Whether a failed send can never succeed however often it is replayed (the record itself is too large).

    Faust wraps aiokafka's errors (``ProducerSendError`` from ...), so the cause chain is searched.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MessageSizeTooLargeError | RecordTooLargeError):
            return True
        seen = seen.__cause__
    return False
