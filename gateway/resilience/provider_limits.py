"""Our own view of each provider's RPM/TPM usage, so a request can go to a fallback *before* a 429."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.resilience.config import ProviderLimit
from gateway.resilience.window import RollingWindow

Clock = Callable[[], float]

WINDOW_S = 60.0
_BUCKET_S = 1.0


@dataclass(frozen=True, slots=True)
class RateSnapshot:
    """Usage of one (provider, model) over the last minute, next to its limits."""

    provider: str
    model: str
    requests: int
    tokens: int
    rpm: int | None
    tpm: int | None


class ProviderRateTracker:
    """Requests and tokens sent to one (provider, model) over a sliding 60 s window.

    The window is bucketed by the second and errs towards over-counting (see
    :class:`gateway.resilience.window.RollingWindow`), so it steers away from a provider slightly early rather
    than late. It tracks only this process's traffic: with several workers, give each a share of the limit.
    """

    def __init__(
        self, limit: ProviderLimit, *, clock: Clock = time.monotonic, provider: str = "", model: str = ""
    ) -> None:
        self.limit = limit
        self.provider = provider
        self.model = model
        self._clock = clock
        self._window = RollingWindow(WINDOW_S, _BUCKET_S)

    def would_exceed(self, tokens: int) -> bool:
        """Whether one more request of ``tokens`` tokens would break the RPM or TPM limit now."""
        if self.limit.rpm is None and self.limit.tpm is None:
            return False
        requests, used = self._window.totals(self._clock())
        if self.limit.rpm is not None and requests + 1 > self.limit.rpm:
            return True
        return self.limit.tpm is not None and used + tokens > self.limit.tpm

    def record(self, tokens: int, *, requests: int = 1) -> None:
        """Count a request of ``tokens`` tokens sent now (``requests=0`` corrects tokens only)."""
        self._window.add(self._clock(), requests, tokens)

    def snapshot(self) -> RateSnapshot:
        """Usage over the window ending now."""
        requests, tokens = self._window.totals(self._clock())
        return RateSnapshot(self.provider, self.model, requests, tokens, self.limit.rpm, self.limit.tpm)


class RateTrackerRegistry:
    """The rate trackers of every (provider, model), created on first use; ``limits`` is per catalog model."""

    def __init__(self, limits: Mapping[str, ProviderLimit], *, clock: Clock = time.monotonic) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._trackers: dict[tuple[str, str], ProviderRateTracker] = {}

    def get(self, provider: str, model: str) -> ProviderRateTracker:
        """The tracker of a (provider, catalog model) pair."""
        key = (provider, model)
        tracker = self._trackers.get(key)
        if tracker is None:
            limit = self._limits.get(model, ProviderLimit())
            tracker = ProviderRateTracker(limit, clock=self._clock, provider=provider, model=model)
            self._trackers[key] = tracker
        return tracker

    def snapshot_all(self) -> list[RateSnapshot]:
        """Snapshots of every tracker created so far, sorted by (provider, model)."""
        return [self._trackers[key].snapshot() for key in sorted(self._trackers)]
