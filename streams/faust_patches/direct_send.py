"""Records go straight to the aiokafka producer under Faust's, not through Faust's per-message send machinery.

Faust's ``Topic.send`` wraps every record in a ``PendingMessage`` and a ``FutureMessage``, runs its sensors and the
``on_produce_message`` signal, and chains one more callback to aiokafka's future; a table's changelog record also
crosses ``ProducerBuffer``'s queue and task. Measured on one core here, that is ~20-25 us of CPU per record on top
of aiokafka's own ~19 us (bench/FINDINGS.md, "Round 6"), and a request produces ~6 records (result, usage event,
and the ledger's changelog writes at admission and settlement).

:func:`send` hands one record to the same aiokafka producer (Faust's, so the same client, partitioner, linger and
batches). :class:`ChangelogOutbox` does it for changelog records, which tables write from synchronous code: they
are serialised by the changelog topic exactly as Faust would, queued in order, and handed to aiokafka by one task
per burst; the future it returns resolves when the broker has the record, as Faust's did, after the table's
store is told the record's offset (what Faust's ``_on_changelog_sent`` does outside a transaction). Transactions
(exactly-once, which the embedded broker cannot run) keep Faust's own path.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer


def kafka_producer(app: Any) -> AIOKafkaProducer | None:
    """The started aiokafka producer under ``app``'s Faust producer (``None`` before it started)."""
    producer = getattr(getattr(app, "producer", None), "_producer", None)
    return producer if isinstance(producer, AIOKafkaProducer) else None


def _header_list(headers: Any) -> list[tuple[str, bytes]] | None:
    if not headers:
        return None
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


async def send(
    producer: AIOKafkaProducer,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    *,
    partition: int | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> asyncio.Future[Any]:
    """Queue one record on ``producer``; returns the future that resolves when the broker has it."""
    future: asyncio.Future[Any] = await producer.send(topic, value, key=key, partition=partition, headers=headers)
    return future


class ChangelogSend(asyncio.Future[Any]):
    """The future of one changelog record; ``message.partition`` as on Faust's ``FutureMessage``
    (``Table.on_key_set`` reads it)."""

    def __init__(self, topic: str, partition: int) -> None:
        super().__init__()
        self.message = _Sent(topic, partition)


class _Sent:
    __slots__ = ("partition", "topic")

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition


class ChangelogOutbox:
    """Changelog records in the order tables wrote them, handed to aiokafka by one task while any are queued."""

    def __init__(self) -> None:
        self._queue: collections.deque[tuple[AIOKafkaProducer, str, int, Any, Any, Any, Any, ChangelogSend]] = (
            collections.deque()
        )
        self._drain: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Records queued and not yet handed to the producer."""
        return len(self._queue)

    def put(
        self,
        producer: AIOKafkaProducer,
        table: Any,
        partition: int,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> ChangelogSend:
        """Serialise ``key``/``value`` as ``table``'s changelog topic does and queue the record for ``partition``."""
        topic = table.changelog_topic
        headers = topic.prepare_headers(None)
        key_bytes, headers = topic.prepare_key(key, key_serializer or table.key_serializer, None, headers)
        value_bytes, headers = topic.prepare_value(value, value_serializer or table.value_serializer, None, headers)
        name = topic.get_topic_name()
        future = ChangelogSend(name, partition)
        self._queue.append((producer, name, partition, key_bytes, value_bytes, _header_list(headers), table, future))
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._hand_over())
        return future

    async def _hand_over(self) -> None:
        queue = self._queue
        future: ChangelogSend | None = None
        try:
            while queue:
                producer, topic, partition, key, value, headers, table, future = queue.popleft()
                try:
                    sent = await producer.send(topic, value, key=key, partition=partition, headers=headers)
                except Exception as exc:  # the producer refused it (stopped, too large): the record is not sent
                    _fail(future, exc)
                    continue
                sent.add_done_callback(lambda done, table=table, future=future: _copy(done, table, future))
        except BaseException as exc:  # cancelled with the app: the record in hand and those queued are never sent
            if future is not None:
                _fail(future, exc)  # cancelled in its send (the only await): it was not handed over
            while queue:
                _fail(queue.popleft()[-1], exc)
            raise
        finally:
            self._drain = None


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, Exception):
        future.set_exception(exc)
    else:
        future.cancel()


def _copy(done: asyncio.Future[Any], table: Any, future: asyncio.Future[Any]) -> None:
    if future.done():
        return
    if done.cancelled():
        future.cancel()
        return
    exc = done.exception()
    if exc is not None:
        future.set_exception(exc)
        return
    metadata = done.result()
    # What Faust's Collection._on_changelog_sent does outside a transaction (a no-op for the memory store).
    table.data.set_persisted_offset(metadata.topic_partition, metadata.offset)
    future.set_result(metadata)


OUTBOX = ChangelogOutbox()
