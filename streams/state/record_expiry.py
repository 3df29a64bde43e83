"""Forgetting finished request records once no replay can need them.

A record only guards against redelivery: once its result is delivered and its events are committed, it can go.
Deletion must happen inside an event of the record's partition (Faust writes the tombstone to the partition of the
event being processed), so expiry is queued per partition and drained by the account agent as it processes that
partition's events. After a restart the queue of a partition is seeded once from the table.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable


class RecordExpiry:
    """Per-partition queues of ``(expires_at, key)`` for finished records."""

    def __init__(self, retention_s: float) -> None:
        self.retention_s = retention_s
        self._queues: defaultdict[int, deque[tuple[float, str]]] = defaultdict(deque)
        self._seeded: set[int] = set()

    def schedule(self, partition: int, key: str, created_at: float) -> None:
        """Forget ``key`` ``retention_s`` after the record was created."""
        self._queues[partition].append((created_at + self.retention_s, key))

    def needs_seed(self, partition: int) -> bool:
        """True the first time a partition is seen since start-up."""
        return partition not in self._seeded

    def seed(self, partition: int, finished: Iterable[tuple[str, float]]) -> None:
        """Queue the finished records ``(key, created_at)`` a restarted worker found in the table."""
        self._seeded.add(partition)
        entries = sorted((created_at + self.retention_s, key) for key, created_at in finished)
        self._queues[partition].extendleft(reversed(entries))

    def due(self, partition: int, now: float) -> list[str]:
        """Keys of ``partition`` whose retention has passed (removed from the queue)."""
        queue = self._queues[partition]
        keys = []
        while queue and queue[0][0] <= now:
            keys.append(queue.popleft()[1])
        return keys
