"""Topic administration for any broker: create the topics the gateway needs, idempotently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from gateway.errors import BrokerError
from gateway.kafka_security import KafkaTarget, admin_client, connection, create_topics, led_topics

log = logging.getLogger(__name__)


async def ensure_topics(
    kafka: KafkaTarget, specs: Sequence[tuple[str, int]], *, replication_factor: int = 1, timeout_s: float = 30.0
) -> dict[str, int]:
    """Create the missing ``(name, partitions)`` topics and wait until all are visible with leaders.

    Idempotent: existing topics are left alone (a partition count differing from the spec is logged, not
    changed). Returns each topic's actual partition count. Raises :class:`BrokerError` on any other failure.
    """
    from aiokafka.errors import KafkaError

    bootstrap = connection(kafka)
    wanted = dict(specs)
    if invalid := {name: n for name, n in wanted.items() if n < 1}:
        raise BrokerError(f"partitions must be >= 1: {invalid}")
    try:
        async with admin_client(bootstrap, timeout_s) as admin:
            _, bad = await create_topics(admin, wanted, replication_factor)
            if bad:
                raise BrokerError(f"cannot create topics on {bootstrap}: {bad}")
            while (ready := await led_topics(admin, wanted)).keys() < wanted.keys():  # noqa: ASYNC110  # polling
                await asyncio.sleep(0.05)
    except TimeoutError as exc:
        raise BrokerError(f"topics {sorted(wanted)} not ready on {bootstrap} within {timeout_s} s") from exc
    except KafkaError as exc:
        raise BrokerError(f"cannot set up topics on {bootstrap}: {exc!r}") from exc
    if other := {name: ready[name] for name, want in wanted.items() if ready[name] != want}:
        log.warning("existing topics have other partition counts than asked for: %s", other)
    return {name: ready[name] for name in wanted}


async def list_topic_names(kafka: KafkaTarget, *, timeout_s: float = 5.0) -> set[str]:
    """Every topic the cluster has, from a metadata request for all topics (which auto-creates nothing).

    Raises :class:`BrokerError` when the broker cannot answer within ``timeout_s``.
    """
    from aiokafka.errors import KafkaError

    bootstrap = connection(kafka)
    try:
        async with admin_client(bootstrap, timeout_s) as admin:
            return set(await admin.list_topics())
    except (TimeoutError, KafkaError) as exc:
        raise BrokerError(f"cannot list the topics of {bootstrap}: {exc!r}") from exc
