"""Circuit breaker state machine, error-ratio window and registry."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import (
    DeadlineExceeded,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderBadResponse,
    ProviderConnectionError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from gateway.resilience import (
    BreakerPolicy,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    counts_against_breaker,
)


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def make(**policy: float) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker(BreakerPolicy.model_validate(policy), clock=clock, provider="p", model="m"), clock


def test_opens_after_consecutive_failures() -> None:
    breaker, _ = make(failure_threshold=3)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.snapshot().state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.snapshot().times_opened == 1


def test_success_resets_the_consecutive_count() -> None:
    breaker, _ = make(failure_threshold=3, min_calls=1000)
    for _ in range(10):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 0


def test_opens_on_error_ratio_once_min_calls_are_reached() -> None:
    breaker, _ = make(failure_threshold=100, error_ratio=0.5, min_calls=10)
    for _ in range(4):  # 4/4 failed, but below min_calls
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    for _ in range(5):  # 4 failures out of 9 calls
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()  # 5 out of 10 = 0.5
    assert breaker.snapshot().state is BreakerState.OPEN


def test_error_ratio_below_threshold_stays_closed() -> None:
    breaker, _ = make(failure_threshold=100, error_ratio=0.5, min_calls=10)
    for _ in range(30):
        breaker.record_success()
        breaker.record_success()
        breaker.record_failure()  # 1/3 failure ratio
    assert breaker.state is BreakerState.CLOSED
    snap = breaker.snapshot()
    assert snap.window_calls == 90 and snap.window_failures == 30
    assert snap.error_ratio == pytest.approx(1 / 3)


def test_old_outcomes_leave_the_window() -> None:
    breaker, clock = make(failure_threshold=100, error_ratio=0.5, min_calls=10, window_s=10)
    for _ in range(9):
        breaker.record_failure()
    clock.now += 11  # window 10 s plus one 0.5 s bucket of slack
    assert breaker.snapshot().window_calls == 0
    breaker.record_failure()  # 1 call in the window: below min_calls
    assert breaker.state is BreakerState.CLOSED


def test_cooldown_then_a_single_half_open_probe() -> None:
    breaker, clock = make(failure_threshold=1, cooldown_s=30)
    breaker.record_failure()
    clock.now += 29.9
    assert not breaker.allow()
    assert breaker.snapshot().cooldown_remaining_s == pytest.approx(0.1)
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # half_open_probes=1: nobody else while it runs
    assert breaker.snapshot().probes_in_flight == 1


def test_successful_probe_closes() -> None:
    breaker, clock = make(failure_threshold=1, cooldown_s=30)
    breaker.record_failure()
    clock.now += 30
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(10))
    assert breaker.snapshot().window_calls == 0  # the failures before the outage are forgotten


def test_failed_probe_reopens_for_another_cooldown() -> None:
    breaker, clock = make(failure_threshold=1, cooldown_s=30)
    breaker.record_failure()
    clock.now += 30
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 29
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()
    assert breaker.snapshot().times_opened == 2


def test_release_frees_the_probe_slot_without_a_verdict() -> None:
    breaker, clock = make(failure_threshold=1, cooldown_s=5, half_open_probes=2)
    breaker.record_failure()
    clock.now += 5
    assert breaker.allow() and breaker.allow()
    assert not breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_late_outcomes_while_open_change_nothing() -> None:
    breaker, clock = make(failure_threshold=1, cooldown_s=30)
    breaker.record_failure()
    clock.now += 10
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot().cooldown_remaining_s == pytest.approx(20)


@pytest.mark.parametrize(
    ("exc", "counts"),
    [
        (ProviderTimeout("t", provider="p", model="m"), True),
        (ProviderConnectionError("c", provider="p", model="m"), True),
        (ProviderUnavailable("5xx", provider="p", model="m", status=503), True),
        (ProviderRateLimited("429", provider="p", model="m", status=429), True),
        (ProviderBadResponse("junk", provider="p", model="m"), True),
        (ProviderAuthError("401", provider="p", model="m", status=401), True),
        (ProviderBadRequest("400", provider="p", model="m", status=400), False),
        (DeadlineExceeded("late"), False),
        (asyncio.CancelledError(), False),
        (ValueError("bug"), False),
    ],
)
def test_counts_against_breaker(exc: BaseException, counts: bool) -> None:
    assert counts_against_breaker(exc) is counts


def test_registry_is_lazy_and_keyed_by_provider_and_model() -> None:
    clock = Clock()
    registry = BreakerRegistry(BreakerPolicy(failure_threshold=1), clock=clock)
    assert registry.snapshot_all() == []
    a = registry.get("openai", "gpt-4o")
    assert registry.get("openai", "gpt-4o") is a
    assert registry.get("anthropic", "claude-3-5-haiku") is not a
    a.record_failure()
    snaps = registry.snapshot_all()
    assert [(s.provider, s.model, s.state) for s in snaps] == [
        ("anthropic", "claude-3-5-haiku", BreakerState.CLOSED),
        ("openai", "gpt-4o", BreakerState.OPEN),
    ]
