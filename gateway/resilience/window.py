"""A time-bucketed rolling window of two counters, bounded in memory whatever the traffic."""

from __future__ import annotations

import math
from collections import deque


class RollingWindow:
    """Sums of two counters over roughly the last ``span_s`` seconds.

    Events fall into buckets of ``bucket_s`` seconds. The window keeps the current bucket and the ones
    starting within ``span_s`` before it, so it may count events up to ``span_s + bucket_s`` old, never fewer
    than ``span_s``: it errs on the side of over-counting, which is the safe side for rate limits.
    """

    __slots__ = ("_buckets", "_depth", "bucket_s", "span_s")

    def __init__(self, span_s: float, bucket_s: float) -> None:
        if span_s <= 0 or bucket_s <= 0:
            raise ValueError("span_s and bucket_s must be positive")
        self.span_s = span_s
        self.bucket_s = bucket_s
        self._depth = math.ceil(span_s / bucket_s)
        self._buckets: deque[list[int]] = deque()  # [bucket index, first counter, second counter]

    def add(self, now: float, first: int = 0, second: int = 0) -> None:
        """Add to both counters at time ``now``."""
        index = math.floor(now / self.bucket_s)
        self._prune(index)
        if self._buckets and self._buckets[-1][0] >= index:
            # Same bucket (or a clock that went backwards: fold it into the newest bucket).
            bucket = self._buckets[-1]
        else:
            bucket = [index, 0, 0]
            self._buckets.append(bucket)
        bucket[1] += first
        bucket[2] += second

    def totals(self, now: float) -> tuple[int, int]:
        """Both counters summed over the window ending at ``now``."""
        self._prune(math.floor(now / self.bucket_s))
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def clear(self) -> None:
        """Forget every event."""
        self._buckets.clear()

    def _prune(self, index: int) -> None:
        oldest = index - self._depth
        while self._buckets and self._buckets[0][0] < oldest:
            self._buckets.popleft()
