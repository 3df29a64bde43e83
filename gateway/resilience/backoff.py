"""Exponential backoff with full jitter, honouring a provider's Retry-After."""

from __future__ import annotations

import random

from gateway.resilience.config import RetryPolicy


def backoff_ceiling(policy: RetryPolicy, attempt: int) -> float:
    """The jitter range's upper bound after failed attempt number ``attempt`` (1-based), capped."""
    if attempt < 1:
        raise ValueError(f"attempt is 1-based, got {attempt}")
    try:
        grown = policy.base_delay_s * policy.multiplier ** (attempt - 1)
    except OverflowError:  # a huge attempt number: the cap applies anyway
        return policy.max_delay_s
    return min(policy.max_delay_s, grown)


def backoff_delay(policy: RetryPolicy, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based) before the next one.

    The delay is drawn uniformly from ``[0, min(max_delay_s, base_delay_s * multiplier ** (attempt - 1))]``
    ("full jitter", which spreads retries of many clients evenly instead of in synchronised waves). When the
    provider sent a Retry-After and the policy honours it, the delay is at least that, capped at
    ``max_retry_after_s``.
    """
    delay = rng.uniform(0.0, backoff_ceiling(policy, attempt))
    if policy.honour_retry_after and retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, policy.max_retry_after_s))
    return delay
