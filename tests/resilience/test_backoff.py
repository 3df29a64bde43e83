"""Exponential backoff with full jitter, and the Retry-After floor."""

from __future__ import annotations

import random
import statistics

import pytest

from gateway.errors import ConfigError
from gateway.resilience import RetryPolicy, backoff_ceiling, backoff_delay

POLICY = RetryPolicy()  # base 0.2, multiplier 2, max 5


def test_ceiling_grows_exponentially_then_caps() -> None:
    ceilings = [backoff_ceiling(POLICY, attempt) for attempt in range(1, 9)]
    assert ceilings == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert backoff_ceiling(POLICY, 100_000) == 5.0  # no OverflowError on absurd attempt numbers


def test_attempt_is_one_based() -> None:
    with pytest.raises(ValueError):
        backoff_ceiling(POLICY, 0)


def test_delays_stay_within_zero_and_the_ceiling() -> None:
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = backoff_ceiling(POLICY, attempt)
        delays = [backoff_delay(POLICY, attempt, None, rng) for _ in range(500)]
        assert min(delays) >= 0.0
        assert max(delays) <= ceiling <= POLICY.max_delay_s


def test_full_jitter_is_uniform_over_the_whole_range() -> None:
    rng = random.Random(42)
    ceiling = backoff_ceiling(POLICY, 3)  # 0.8
    delays = [backoff_delay(POLICY, 3, None, rng) for _ in range(20_000)]
    # Full jitter, not "ceiling/2 + jitter": values reach down to ~0 and up to ~the ceiling.
    assert min(delays) < 0.01 * ceiling
    assert max(delays) > 0.99 * ceiling
    assert statistics.fmean(delays) == pytest.approx(ceiling / 2, rel=0.03)
    assert statistics.pstdev(delays) == pytest.approx(ceiling / 12**0.5, rel=0.03)  # uniform's std
    bins = [0] * 10
    for d in delays:
        bins[min(9, int(d / ceiling * 10))] += 1
    assert all(1_800 <= count <= 2_200 for count in bins), bins


def test_retry_after_is_a_floor() -> None:
    rng = random.Random(3)
    # The jitter ceiling of attempt 1 is 0.2 s, so the Retry-After dominates exactly.
    assert all(backoff_delay(POLICY, 1, 2.5, rng) == 2.5 for _ in range(100))
    # Where the jitter ceiling is larger, the delay is never below the Retry-After.
    delays = [backoff_delay(POLICY, 6, 1.0, rng) for _ in range(1_000)]
    assert min(delays) == 1.0
    assert max(delays) <= 5.0
    assert any(d > 1.0 for d in delays)


def test_retry_after_is_capped_and_can_be_ignored() -> None:
    rng = random.Random(4)
    assert backoff_delay(POLICY, 1, 600.0, rng) == POLICY.max_retry_after_s == 30.0
    ignoring = RetryPolicy(honour_retry_after=False)
    assert all(backoff_delay(ignoring, 1, 600.0, rng) <= 0.2 for _ in range(100))
    assert all(backoff_delay(POLICY, 1, bad, rng) <= 0.2 for bad in (0.0, -1.0, None) for _ in range(20))


def test_policy_rejects_inverted_delays() -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(base_delay_s=10, max_delay_s=1)
