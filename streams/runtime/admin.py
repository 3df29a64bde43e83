"""Topic administration for any broker: create the topics the gateway needs, idempotently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from gateway.errors import BrokerError
from gateway.kafka_security import KafkaTarget, connection

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    kafka: KafkaTarget, specs: Sequence[tuple[str, int]], *, replication_factor: int = 1, timeout_s: float = 30.0
) -> dict[str, int]:
    """Create the missing ``(name, partitions)`` topics and wait until all are visible with leaders.

    Idempotent: existing topics are left alone (a partition count differing from the spec is logged, not
    changed). Returns each topic's actual partition count. Raises :class:`BrokerError` on any other failure.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaError

    bootstrap = connection(kafka)
    wanted = dict(specs)
    if invalid := {name: n for name, n in wanted.items() if n < 1}:
        raise BrokerError(f"partitions must be >= 1: {invalid}")
    admin = AIOKafkaAdminClient(**bootstrap.client_kwargs(), request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            existing = set(await admin.list_topics())  # metadata for all topics: auto-creates nothing
            missing = [NewTopic(n, p, replication_factor) for n, p in wanted.items() if n not in existing]
            errors = (await admin.create_topics(missing)).to_object()["topic_errors"] if missing else []
            if bad := [e for e in errors if e["error_code"] not in (0, _TOPIC_ALREADY_EXISTS)]:
                raise BrokerError(f"cannot create topics on {bootstrap}: {bad}")
            return await _wait_visible(admin, wanted) if wanted else {}
    except TimeoutError as exc:
        raise BrokerError(f"topics {sorted(wanted)} not ready on {bootstrap} within {timeout_s} s") from exc
    except KafkaError as exc:
        raise BrokerError(f"cannot set up topics on {bootstrap}: {exc!r}") from exc
    finally:
        await admin.close()


async def _wait_visible(admin: Any, wanted: dict[str, int]) -> dict[str, int]:
    while True:
        ready = {
            t["topic"]: len(t["partitions"])
            for t in await admin.describe_topics(list(wanted))
            if t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if ready.keys() >= wanted.keys():
            if other := {name: ready[name] for name, want in wanted.items() if ready[name] != want}:
                log.warning("existing topics have other partition counts than asked for: %s", other)
            return {name: ready[name] for name in wanted}
        await asyncio.sleep(0.05)


async def list_topic_names(kafka: KafkaTarget, *, timeout_s: float = 5.0) -> set[str]:
    """Every topic the cluster has, from a metadata request for all topics (which auto-creates nothing).

    Raises :class:`BrokerError` when the broker cannot answer within ``timeout_s``.
    """
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    bootstrap = connection(kafka)
    admin = AIOKafkaAdminClient(**bootstrap.client_kwargs(), request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            return set(await admin.list_topics())
    except (TimeoutError, KafkaError) as exc:
        raise BrokerError(f"cannot list the topics of {bootstrap}: {exc!r}") from exc
    finally:
        await admin.close()
