"""The chunk events of streamed answers on Kafka: each request's chunks on its ``reply_to``, keyed by its id.

The result of the request goes to the same topic under the same key (:mod:`streams.runtime.accounting`), so one
partition holds a request's chunks and result, and one producer sends them in order. Before a result leaves this
worker, :meth:`ReplyChunks.delivered` waits for the chunks: when the result is sent by another worker (after
the settle hop) they are on the broker first all the same.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.chunk_relay import ChunkSink, OpenSink
from agents.reply_to import reply_topic_for
from gateway.settings import Settings
from schemas.chunk import StreamChunk
from schemas.request import LLMRequest
from streams.runtime import metrics
from streams.runtime.delivery import send
from streams.runtime.topics import Topics

log = logging.getLogger(__name__)
_SENT = metrics.STREAM_CHUNKS.labels(outcome="sent")
_RESET = metrics.STREAM_CHUNKS.labels(outcome="reset")
_FAILED = metrics.STREAM_CHUNKS.labels(outcome="failed")


class ReplyChunks:
    """:class:`~agents.chunk_relay.ChunkSink` of one request: its reply topic and key, and the sends in flight."""

    def __init__(self, topic: Any, key: bytes) -> None:
        self._topic = topic
        self._key = key
        self._futures: list[asyncio.Future[Any]] = []

    async def send(self, chunk: StreamChunk) -> None:
        """Queue ``chunk`` on the producer; a failure is logged and counted (the result still carries the answer)."""
        try:
            self._futures.append(await send(self._topic, self._key, chunk.model_dump_json().encode()))
        except Exception as exc:
            _FAILED.inc()
            log.warning("chunk %d of %s not sent: %s", chunk.seq, chunk.id, exc)
            return
        (_RESET if chunk.reset else _SENT).inc()

    async def delivered(self) -> None:
        """Wait for every queued chunk; failures are logged and counted."""
        futures, self._futures = self._futures, []
        for outcome in await asyncio.gather(*futures, return_exceptions=True):
            if isinstance(outcome, BaseException):
                _FAILED.inc()
                log.warning("a chunk of %s was not delivered: %s", self._key.decode(errors="replace"), outcome)


def chunk_sinks(topics: Topics, settings: Settings) -> OpenSink:
    """The factory of per-request sinks: a request's chunks go where its result goes."""

    def open_sink(request: LLMRequest) -> ChunkSink:
        return ReplyChunks(topics.reply(reply_topic_for(request.reply_to, settings)), request.id.encode())

    return open_sink
