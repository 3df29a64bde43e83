"""Screening a request straight from ``llm.requests``, without the re-keying hop through ``streamgate.admit``.

The intake hop exists to move a request to the partition that owns its tenant's table rows. A request that a
client already keyed by its tenant, with Kafka's default partitioner, on a request topic with as many partitions
as the tables, is on that partition already: Faust co-assigns partition ``p`` of every topic with the same
partition count, so the worker consuming it owns the tenant's rows. Screening it where it is saves a produce, a
consume and a parse per request, and one hop of latency (~10 ms here). Anything else takes the hop.

Ledger records remember the position of the event that created them, to tell a redelivery (same event) from a
re-publish of the same id (a new event). Offsets of the two topics would collide, so a direct event's position
is ``-1 - offset``: admit offsets stay as they are and no direct position can equal one.
"""

from __future__ import annotations

from collections.abc import Callable

from aiokafka.partitioner import murmur2


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as in the Java client and aiokafka) gives ``key``."""
    return (int(murmur2(key)) & 0x7FFFFFFF) % partitions


def screens_directly(
    *,
    key: bytes | None,
    partition: int,
    tenant: str,
    topic_partitions: Callable[[], int | None],
    table_partitions: int,
) -> bool:
    """Whether an event of the request topic may be screened where it is.

    ``key`` and ``partition`` are the event's; ``topic_partitions`` reads the request topic's partition count as
    the consumer knows it (``None``: not known yet, so no), only for events keyed by their tenant.
    """
    tenant_key = tenant.encode()
    if key != tenant_key or partition != partition_for(tenant_key, table_partitions):
        return False
    return topic_partitions() == table_partitions


def direct_position(offset: int) -> int:
    """The ledger position of a request-topic event (negative; admit-topic events use their offset)."""
    return -1 - offset
