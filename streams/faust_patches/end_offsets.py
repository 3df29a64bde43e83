"""End offsets read from a fetch response, for brokers whose ListOffsets answer stops short of the log end.

The embedded Tansu broker answers ListOffsets (``end_offsets``) with the base offset of the partition's last record
batch plus one, not the log end: after one batch of 20 records on an empty partition it reports 1, not 20. Faust
recovers a table by reading its changelog up to that answer, so every record after the first of the last batch
was skipped and the recovered budget counts were stale (seen: a tenant admitted 28 requests against a limit of
20 after a partition moved). A fetch response carries the true high watermark, so :func:`true_end_offsets` fetches
the tail of each partition and takes the larger of the two answers; on a correct broker they agree.
:func:`install` makes Faust recover to those ends (it replaces ``AIOKafkaConsumerThread._highwaters``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams.faust_patches import patching


async def true_end_offsets(
    bootstrap_servers: Any, reported: Mapping[Any, int], timeout_s: float = 10.0, **security: Any
) -> dict[Any, int]:
    """``reported`` end offsets, raised to the high watermark a fetch from just before each one returns.

    ``security``: the worker's aiokafka security arguments (:meth:`KafkaConnection.security_kwargs`).
    """
    ends = dict(reported)
    candidates = [tp for tp, end in reported.items() if end is not None and end > 0]
    if not candidates:
        return ends
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=10, **security
    )
    await consumer.start()
    try:
        consumer.assign(candidates)
        for tp in candidates:
            consumer.seek(tp, reported[tp] - 1)
        deadline = time.monotonic() + timeout_s
        pending = set(candidates)
        while pending and time.monotonic() < deadline:
            await consumer.getmany(*pending, timeout_ms=100)
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    ends[tp] = max(ends[tp], highwater)
                    pending.discard(tp)
        if pending:
            raise TimeoutError(f"no fetch answer for {sorted(map(str, pending))} within {timeout_s} s")
        return ends
    finally:
        await consumer.stop()


def _with_true_highwaters(security: Mapping[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def _highwaters(self: Any, partitions: Any) -> Any:
            reported = await original(self, partitions)
            if self.consumer.in_transaction:
                return reported
            servers = self._ensure_consumer()._client._bootstrap_servers
            return await true_end_offsets(servers, reported, **security)

        return _highwaters

    return make


def install(security: Mapping[str, Any] | None = None) -> None:
    """Make Faust recover every table up to :func:`true_end_offsets` (outside transactions).

    ``security``: the aiokafka security arguments the extra consumer connects with (the worker's own).
    """
    patching.replace(AIOKafkaConsumerThread, "_highwaters", _with_true_highwaters(dict(security or {})))
