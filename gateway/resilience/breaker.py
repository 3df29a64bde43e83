"""Circuit breakers per (provider, model): stop calling a link that keeps failing, probe it after cooldown."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from gateway.errors import ProviderBadRequest, ProviderError
from gateway.resilience.config import BreakerPolicy
from gateway.resilience.window import RollingWindow

log = logging.getLogger(__name__)

Clock = Callable[[], float]

_WINDOW_BUCKETS = 20


class BreakerState(StrEnum):
    """The three states of a circuit."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def counts_against_breaker(exc: BaseException) -> bool:
    """Whether a failure says something about the provider link and so counts towards opening its circuit.

    Timeouts, connection errors, 5xx, 429, unparseable answers and refused credentials count (the link cannot
    serve requests); a :class:`ProviderBadRequest` is our own fault and does not, nor is anything that is not
    a :class:`ProviderError` (cancellation, deadlines).
    """
    return isinstance(exc, ProviderError) and not isinstance(exc, ProviderBadRequest)


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A breaker's state for metrics and status pages."""

    provider: str
    model: str
    state: BreakerState
    consecutive_failures: int
    window_calls: int
    window_failures: int
    error_ratio: float
    cooldown_remaining_s: float
    probes_in_flight: int
    times_opened: int


class CircuitBreaker:
    """A circuit breaker driven by an injectable monotonic ``clock``.

    Call :meth:`allow` before each call; when it returns ``True`` report the outcome with exactly one of
    :meth:`record_success`, :meth:`record_failure` or :meth:`release` (no verdict, e.g. cancelled or our own
    bad request). Not thread-safe; meant for one event loop.
    """

    def __init__(
        self, policy: BreakerPolicy, *, clock: Clock = time.monotonic, provider: str = "", model: str = ""
    ) -> None:
        self.policy = policy
        self.provider = provider
        self.model = model
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._consecutive = 0
        self._probes = 0
        self._times_opened = 0
        self._window = RollingWindow(policy.window_s, policy.window_s / _WINDOW_BUCKETS)

    @property
    def state(self) -> BreakerState:
        """The current state; an open circuit whose cooldown has elapsed reports (and turns) half-open."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.policy.cooldown_s:
            self._transition(BreakerState.HALF_OPEN)
            self._probes = 0
        return self._state

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open this takes one of the ``half_open_probes`` slots."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes < self.policy.half_open_probes:
            self._probes += 1
            return True
        return False

    def record_success(self) -> None:
        """A call succeeded: a half-open circuit closes."""
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._close()
        elif state is BreakerState.CLOSED:
            self._consecutive = 0
            self._window.add(self._clock(), 1, 0)

    def record_failure(self) -> None:
        """A call failed in a way that counts (see :func:`counts_against_breaker`)."""
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._open()
        elif state is BreakerState.CLOSED:
            now = self._clock()
            self._consecutive += 1
            self._window.add(now, 1, 1)
            calls, failures = self._window.totals(now)
            if self._consecutive >= self.policy.failure_threshold or (
                calls >= self.policy.min_calls and failures / calls >= self.policy.error_ratio
            ):
                self._open()

    def release(self) -> None:
        """An admitted call ended without a verdict on the provider; frees its half-open probe slot."""
        if self._state is BreakerState.HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def snapshot(self) -> BreakerSnapshot:
        """The breaker's counters now."""
        state = self.state
        now = self._clock()
        calls, failures = self._window.totals(now)
        remaining = max(0.0, self._opened_at + self.policy.cooldown_s - now) if state is BreakerState.OPEN else 0.0
        return BreakerSnapshot(
            provider=self.provider,
            model=self.model,
            state=state,
            consecutive_failures=self._consecutive,
            window_calls=calls,
            window_failures=failures,
            error_ratio=failures / calls if calls else 0.0,
            cooldown_remaining_s=remaining,
            probes_in_flight=self._probes,
            times_opened=self._times_opened,
        )

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._times_opened += 1
        self._consecutive = 0
        self._probes = 0
        self._transition(BreakerState.OPEN)

    def _close(self) -> None:
        self._consecutive = 0
        self._probes = 0
        self._window.clear()
        self._transition(BreakerState.CLOSED)

    def _transition(self, new: BreakerState) -> None:
        if new is not self._state:
            log.info("circuit %s/%s: %s -> %s", self.provider, self.model, self._state, new)
            self._state = new


class BreakerRegistry:
    """The circuit breakers of every (provider, model), created on first use with one shared policy."""

    def __init__(self, policy: BreakerPolicy, *, clock: Clock = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def get(self, provider: str, model: str) -> CircuitBreaker:
        """The breaker of a (provider, catalog model) pair."""
        key = (provider, model)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = CircuitBreaker(self.policy, clock=self._clock, provider=provider, model=model)
            self._breakers[key] = breaker
        return breaker

    def snapshot_all(self) -> list[BreakerSnapshot]:
        """Snapshots of every breaker created so far, sorted by (provider, model)."""
        return [self._breakers[key].snapshot() for key in sorted(self._breakers)]
