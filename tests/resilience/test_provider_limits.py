"""Our own RPM/TPM accounting per (provider, model)."""

from __future__ import annotations

from gateway.resilience import ProviderLimit, ProviderRateTracker, RateTrackerRegistry


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rpm_limit() -> None:
    clock = Clock()
    tracker = ProviderRateTracker(ProviderLimit(rpm=3), clock=clock)
    for _ in range(3):
        assert not tracker.would_exceed(0)
        tracker.record(0)
    assert tracker.would_exceed(0)


def test_tpm_limit_counts_the_tokens_about_to_be_sent() -> None:
    clock = Clock()
    tracker = ProviderRateTracker(ProviderLimit(tpm=1_000), clock=clock)
    tracker.record(600)
    assert not tracker.would_exceed(400)
    assert tracker.would_exceed(401)
    assert tracker.snapshot().tokens == 600


def test_window_slides_after_sixty_seconds() -> None:
    clock = Clock()
    tracker = ProviderRateTracker(ProviderLimit(rpm=1), clock=clock)
    tracker.record(10)
    clock.now += 59.9
    assert tracker.would_exceed(0)  # never forgets early
    clock.now += 1.2  # 61.1 s later
    assert not tracker.would_exceed(0)
    assert tracker.snapshot().requests == 0


def test_unlimited_never_exceeds_but_still_counts() -> None:
    tracker = ProviderRateTracker(ProviderLimit(), clock=Clock(), provider="p", model="m")
    for _ in range(10_000):
        tracker.record(1_000)
    assert not tracker.would_exceed(10**9)
    snap = tracker.snapshot()
    assert (snap.provider, snap.model, snap.rpm, snap.tpm) == ("p", "m", None, None)
    assert (snap.requests, snap.tokens) == (10_000, 10**7)


def test_registry_applies_per_model_limits() -> None:
    clock = Clock()
    registry = RateTrackerRegistry({"gpt-4o": ProviderLimit(rpm=1)}, clock=clock)
    limited = registry.get("openai", "gpt-4o")
    assert registry.get("openai", "gpt-4o") is limited
    limited.record(1)
    assert limited.would_exceed(1)
    other = registry.get("openai", "gpt-4o-mini")
    other.record(1)
    assert not other.would_exceed(1)
    assert [(s.model, s.requests, s.rpm) for s in registry.snapshot_all()] == [
        ("gpt-4o", 1, 1),
        ("gpt-4o-mini", 1, None),
    ]
