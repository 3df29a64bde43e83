"""The fallback-chain executor: retries, circuit breakers, local rate limits and one overall deadline.

:func:`complete_resilient` works through a chain of links (a model and its fallbacks) in order. A link is
skipped without a call when its circuit is open or when the request would break its RPM/TPM limit; otherwise
it is tried up to its policy's ``max_attempts``, retrying only ``retryable`` errors after a jittered backoff.
A non-retryable error that allows fallback (bad credentials) moves on to the next link; one that does not
(our own bad request) stops the whole chain. No attempt runs, and no backoff sleeps, past the deadline.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace

from gateway.errors import ProviderBadResponse, ProviderError, ProviderTimeout
from gateway.providers.base import Completion, CompletionCall, Provider
from gateway.resilience.backoff import backoff_delay
from gateway.resilience.breaker import BreakerRegistry, BreakerState, counts_against_breaker
from gateway.resilience.chain import ChainLink, ResilientResult
from gateway.resilience.config import ResilienceSettings, RetryPolicy
from gateway.resilience.errors import AllLinksFailed, ChainDeadlineExceeded, LinkError
from gateway.resilience.provider_limits import RateTrackerRegistry
from schemas.codes import ErrorCode
from schemas.result import Attempt

OUTCOME_OK = "ok"
LOCAL_RATE_LIMIT = "local_rate_limit"
"""Attempt outcome of a link skipped because the request would break our own view of its RPM/TPM limit."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_RNG = random.Random()


async def complete_resilient(
    call: CompletionCall,
    chain: Sequence[ChainLink],
    providers: Mapping[str, Provider],
    *,
    breakers: BreakerRegistry,
    rates: RateTrackerRegistry,
    settings: ResilienceSettings,
    deadline_monotonic: float | None = None,
    estimated_tokens: int = 0,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> ResilientResult:
    """Serve ``call`` from the first link of ``chain`` that answers (see the module docstring).

    ``deadline_monotonic`` is on ``clock``'s time base; ``None`` means ``clock() + settings.max_request_s``.
    ``estimated_tokens`` (prompt plus ``max_tokens``) is what each attempt counts against its link's TPM.
    Raises :class:`AllLinksFailed`, :class:`ChainDeadlineExceeded`, or the :class:`ProviderError` that forbade
    fallback; each carries ``attempts`` and ``link_errors``.
    """
    deadline = clock() + settings.max_request_s if deadline_monotonic is None else deadline_monotonic
    run = _ChainRun(call, providers, breakers, rates, settings, deadline, estimated_tokens, clock, sleep, rng or _RNG)
    for index, link in enumerate(chain):
        completion = await run.try_link(index, link)
        if completion is not None:
            return ResilientResult(completion, link, index, run.attempts)
    if clock() >= deadline:  # the last attempts were cut short by the deadline
        raise run.deadline_error()
    raise AllLinksFailed(
        f"all {len(chain)} links of the fallback chain failed",
        attempts=run.attempts,
        link_errors=run.errors(),
    )


class _ChainRun:
    """The mutable state of one :func:`complete_resilient` call."""

    def __init__(
        self, call: CompletionCall, providers: Mapping[str, Provider], breakers: BreakerRegistry,
        rates: RateTrackerRegistry, settings: ResilienceSettings, deadline: float, estimated_tokens: int,
        clock: Clock, sleep: Sleep, rng: random.Random,
    ) -> None:  # fmt: skip
        self.call, self.providers, self.breakers, self.rates = call, providers, breakers, rates
        self.settings, self.deadline, self.tokens = settings, deadline, estimated_tokens
        self.clock, self.sleep, self.rng = clock, sleep, rng
        self.attempts: list[Attempt] = []
        self.link_errors: dict[int, LinkError] = {}

    def errors(self) -> list[LinkError]:
        """Every link's last error so far, in chain order."""
        return [self.link_errors[i] for i in sorted(self.link_errors)]

    def deadline_error(self) -> ChainDeadlineExceeded:
        """The error for a deadline that has passed, with the attempts made so far."""
        return ChainDeadlineExceeded(
            f"deadline passed after {len(self.attempts)} attempts",
            attempts=self.attempts,
            link_errors=self.errors(),
        )

    async def try_link(self, index: int, link: ChainLink) -> Completion | None:
        """Try one link; ``None`` means "go on to the next link"."""
        provider = self.providers.get(link.provider)
        if provider is None:
            self._skip(index, link, ErrorCode.PROVIDER_UNAVAILABLE, "provider is not configured")
            return None
        policy = self.settings.retry_for(link.model)
        breaker = self.breakers.get(link.provider, link.model)
        tracker = self.rates.get(link.provider, link.model)
        for attempt in range(1, policy.max_attempts + 1):
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                raise self.deadline_error()
            if tracker.would_exceed(self.tokens):
                self._skip(index, link, LOCAL_RATE_LIMIT, "would exceed the provider's RPM/TPM limit")
                return None
            if not breaker.allow():
                self._skip(index, link, ErrorCode.CIRCUIT_OPEN, "circuit is open")
                return None
            timeout = min(self.settings.attempt_timeout_s, remaining)
            tracker.record(self.tokens)
            started = self.clock()
            try:
                completion = await self._call(provider, link, timeout)
            except ProviderError as exc:
                self._attempt(link, exc.code, started, exc.status)
                self.link_errors[index] = _link_error(link, exc.code, exc.message, exc.status)
                clipped = isinstance(exc, ProviderTimeout) and timeout < self.settings.attempt_timeout_s
                if counts_against_breaker(exc) and not clipped:
                    breaker.record_failure()
                else:  # our fault, or the deadline cut the attempt short: says nothing about the provider
                    breaker.release()
                # A circuit our own failures just opened is not retried: go to the next link at once.
                opened = breaker.state is BreakerState.OPEN
                delay = None if opened else self._retry_delay(policy, attempt, exc)
                if delay is None:
                    if not exc.allow_fallback:
                        exc.attempts, exc.link_errors = self.attempts, self.errors()  # type: ignore[attr-defined]
                        raise
                    return None
                await self.sleep(delay)
            except BaseException:
                breaker.release()
                raise
            else:
                breaker.record_success()
                self._attempt(link, OUTCOME_OK, started, None)
                return completion
        return None

    def _retry_delay(self, policy: RetryPolicy, attempt: int, exc: ProviderError) -> float | None:
        """The backoff before retrying the same link, or ``None`` when it is not retried."""
        if not exc.retryable or attempt >= policy.max_attempts:
            return None
        delay = backoff_delay(policy, attempt, exc.retry_after_s, self.rng)
        # Never sleep into (or past) the deadline; a fallback link may still answer without waiting.
        return delay if delay < self.deadline - self.clock() else None

    async def _call(self, provider: Provider, link: ChainLink, limit_s: float) -> Completion:
        """One attempt on ``link``; it cannot outlive ``limit_s`` even if the adapter ignores timeout_s."""
        call = replace(self.call, model=link.upstream, timeout_s=limit_s)
        try:
            async with asyncio.timeout(limit_s):
                return await provider.complete(call)
        except ProviderError:
            raise
        except TimeoutError as exc:
            raise ProviderTimeout(
                f"no answer within {limit_s:.3f}s", provider=link.provider, model=link.upstream
            ) from exc
        except Exception as exc:  # an adapter broke its contract; treat it as an unusable answer
            raise ProviderBadResponse(
                f"adapter raised {type(exc).__name__}: {exc}", provider=link.provider, model=link.upstream
            ) from exc

    def _attempt(self, link: ChainLink, outcome: str, started: float, status: int | None) -> None:
        latency_ms = max(0.0, (self.clock() - started) * 1000.0)
        self.attempts.append(Attempt(provider=link.provider, model=link.model, outcome=outcome,
                                     latency_ms=latency_ms, status=status))  # fmt: skip

    def _skip(self, index: int, link: ChainLink, outcome: str, message: str) -> None:
        self.attempts.append(Attempt(provider=link.provider, model=link.model, outcome=outcome, latency_ms=0.0))
        # A link that already failed for real keeps that error; the skip is in the attempt log.
        self.link_errors.setdefault(index, _link_error(link, outcome, message, None))


def _link_error(link: ChainLink, code: str, message: str, status: int | None) -> LinkError:
    return {
        "provider": link.provider,
        "model": link.model,
        "code": str(code),
        "message": message,
        "status": status,
    }
