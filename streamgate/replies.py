"""The client's reply path: one reader of the instance's own reply topic hands each record to whoever waits for
its request id.

A record is a chunk event (:class:`schemas.chunk.StreamChunk`, ``type: "chunk"``) or the final
:class:`schemas.result.LLMResult` (``type: "result"``, or none from older workers). The first result of an id ends its
subscriptions; a repeated result (at-least-once delivery) or one nobody waits for is dropped, and so is a chunk
whose ``seq`` was already seen, except ``seq`` 0 again: the request was served again after a worker crash, and that
chunk is handed on as a ``reset`` (the answer starts over). A record that is not a valid event is logged and
skipped: it never stops the reader.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from gateway.errors import BrokerError
from schemas.chunk import StreamChunk
from schemas.result import LLMResult

log = logging.getLogger(__name__)


Chunk = StreamChunk
"""A piece of a streamed answer (:class:`schemas.chunk.StreamChunk`: ``id``, ``seq``, ``delta``, ``reset``)."""

Reply = Chunk | LLMResult


@dataclass(eq=False, slots=True)
class Subscription:
    """Where the replies of one request id go (``None``: the client closed); ``chunks``: chunk events wanted too."""

    queue: asyncio.Queue[Reply | None]
    chunks: bool = False


@dataclass(slots=True)
class ReplyRouter:
    """Request id -> its subscriptions (several callers may wait for one id, e.g. two retries of one key).

    A published id is also *held* until its result arrives or its wait ends, whether or not anyone still listens:
    the gateway drops a duplicate of a request in flight, so a caller that gave up and sends the same id again
    must attach to the answer on its way instead of publishing again.
    """

    _subs: dict[str, list[Subscription]] = field(default_factory=dict)
    _last_seq: dict[str, int] = field(default_factory=dict)
    _held: dict[str, float] = field(default_factory=dict)
    _hold_ends: list[tuple[float, str]] = field(default_factory=list)

    def hold(self, request_id: str, until: float) -> None:
        """Mark ``request_id`` as published and unanswered until loop time ``until``."""
        self._held[request_id] = max(until, self._held.get(request_id, until))
        heapq.heappush(self._hold_ends, (until, request_id))

    def held(self, request_id: str, now: float) -> bool:
        """Whether ``request_id`` was published and its answer is still awaited (expired holds are dropped)."""
        while self._hold_ends and self._hold_ends[0][0] <= now:
            _, rid = heapq.heappop(self._hold_ends)
            if self._held.get(rid, now + 1) <= now:
                del self._held[rid]
        return request_id in self._held

    def release(self, request_id: str) -> None:
        """Drop the hold of ``request_id`` (its publication failed)."""
        self._held.pop(request_id, None)

    def subscribe(self, request_id: str, sub: Subscription) -> None:
        """Deliver ``request_id``'s replies to ``sub`` until its result arrives or :meth:`unsubscribe`."""
        self._subs.setdefault(request_id, []).append(sub)

    def unsubscribe(self, request_id: str, sub: Subscription) -> None:
        """Stop delivering to ``sub`` (a caller that gave up)."""
        subs = self._subs.get(request_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(request_id, None)
            self._last_seq.pop(request_id, None)

    def waiting(self, request_id: str) -> bool:
        """Whether someone waits for ``request_id``."""
        return request_id in self._subs

    def pending(self) -> int:
        """How many request ids are awaited."""
        return len(self._subs)

    def deliver(self, raw: bytes | None) -> None:
        """Hand one reply-topic record to its subscribers."""
        reply = _parse(raw)
        if reply is None:
            return
        if not isinstance(reply, Chunk):
            self._held.pop(reply.id, None)
        if reply.id not in self._subs:
            return
        if isinstance(reply, Chunk):
            last = self._last_seq.get(reply.id, -1)
            if reply.seq == 0 and last >= 0:
                reply = reply.model_copy(update={"reset": True})  # served again after a crash: the answer restarts
            elif reply.seq <= last:
                return  # a repeated chunk
            self._last_seq[reply.id] = reply.seq
            for sub in self._subs[reply.id]:
                if sub.chunks:
                    sub.queue.put_nowait(reply)
            return
        self._last_seq.pop(reply.id, None)
        for sub in self._subs.pop(reply.id):
            sub.queue.put_nowait(reply)

    def close(self) -> None:
        """Wake every subscriber with ``None`` and forget them all (the client is closing)."""
        for subs in self._subs.values():
            for sub in subs:
                sub.queue.put_nowait(None)
        self._subs.clear()
        self._held.clear()
        self._last_seq.clear()


def _parse(raw: bytes | None) -> Reply | None:
    try:
        doc = orjson.loads(raw or b"")
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if doc.get("type") == "chunk":
            return StreamChunk.model_validate(doc)
        return LLMResult.model_validate(doc)
    except (ValueError, ValidationError) as exc:
        log.warning("skipping a reply record that is not a chunk or a result: %s", exc)
        return None


class ReplyReader:
    """Reads the reply topic from its end (positioned before anything is published) into a :class:`ReplyRouter`."""

    def __init__(self, consumer: AIOKafkaConsumer, topic: str, router: ReplyRouter) -> None:
        self._consumer = consumer
        self._topic = topic
        self._router = router

    async def position_at_end(self, *, timeout_s: float = 30.0) -> None:
        """Assign every partition of the topic and resolve its end offset now, so no later reply is missed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not (parts := self._consumer.partitions_for_topic(self._topic)):
            if loop.time() > deadline:
                raise BrokerError(f"reply topic {self._topic} has no partitions")
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.05)
        partitions = [TopicPartition(self._topic, p) for p in sorted(parts)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self._consumer.position(tp)

    async def run(self) -> None:
        """Deliver records until cancelled; a broker error is logged and retried (the consumer reconnects)."""
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=2000)
            except KafkaError as exc:
                log.warning("reply topic %s: %r; retrying", self._topic, exc)
                await asyncio.sleep(0.5)
                continue
            for records in batches.values():
                for record in records:
                    self._router.deliver(record.value)
