"""The completer: one request's provider calls, made at most once per request id.

It puts the resilience executor (retries, fallbacks, breakers, local RPM/TPM) behind idempotency:

* a finished completion is stored in Redis under the tenant and request id (:func:`completion_key`), so a
  redelivered request (crash, rebalance, duplicate publish) is answered from the store and never pays twice, and
  another tenant that picked the same id never gets this one's answer;
* concurrent duplicates of one id in this worker are coalesced into a single call (:class:`SingleFlight`);
* across workers (a rebalance), the first to claim the id calls and the other waits for its stored completion
  (:class:`gateway.call_claims.RedisCallClaims`).

If Redis is down the completer still serves requests (it logs, and redelivery protection is lost meanwhile).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import RedisError

from gateway.call_claims import RedisCallClaims
from gateway.context_window import drop_oldest_turns
from gateway.providers.base import Completion, CompletionCall, DeltaSink, Provider
from gateway.request_keys import request_key
from gateway.resilience.breaker import BreakerRegistry
from gateway.resilience.chain import ChainLink, ResilientResult, Route
from gateway.resilience.config import ResilienceSettings
from gateway.resilience.executor import complete_resilient
from gateway.resilience.idempotency import CompletionStore, RedisCompletionStore, SingleFlight, StoredCompletion
from gateway.resilience.provider_limits import RateTrackerRegistry
from gateway.tokens import count_chat
from schemas.request import ChatMessage, LLMRequest
from schemas.result import Attempt

log = logging.getLogger(__name__)


def completion_key(request: LLMRequest, attempt_key: str = "") -> str:
    """The idempotency key of one provider call for ``request``: tenant first, because request ids are the
    clients' choice and two tenants may pick the same one; ``attempt_key`` names a further call of the same
    request (a schema retry, a cascade step)."""
    base = request_key(request.tenant, request.id)
    return f"{base}#{attempt_key}" if attempt_key else base


@dataclass(frozen=True, slots=True)
class CompletionOutcome:
    """A successful completion, the link that produced it and every attempt made (empty when replayed)."""

    completion: Completion
    link: ChainLink
    attempts: tuple[Attempt, ...]


def completion_call(
    request: LLMRequest,
    route: Route,
    extra: tuple[ChatMessage, ...] = (),
    *,
    timeout_s: float,
    key: str,
    on_delta: DeltaSink | None = None,
) -> CompletionCall:
    """The provider call serving ``request`` on ``route``'s primary link (the batch lane makes the same one)."""
    turns = (*drop_oldest_turns(request.messages, route.drop_turns), *extra)
    return CompletionCall(
        model=route.primary.upstream,
        messages=[{"role": m.role, "content": m.content} for m in turns],
        max_tokens=request.max_tokens,
        system=request.system,
        temperature=request.temperature,
        top_p=request.top_p,
        stop=tuple(request.stop) if request.stop else None,
        seed=request.seed,
        json_schema=request.response_format,
        timeout_s=timeout_s,
        idempotency_key=key,
        request_id=request.id,
        on_delta=on_delta,
    )


class Completer(Protocol):
    """Makes the provider calls of one request; raises :class:`StreamgateError` carrying ``attempts``."""

    async def complete(
        self,
        request: LLMRequest,
        route: Route,
        *,
        deadline: float,
        extra_messages: tuple[ChatMessage, ...] = (),
        attempt_key: str = "",
        estimated_tokens: int | None = None,
        on_delta: DeltaSink | None = None,
    ) -> CompletionOutcome:
        """Serve ``request`` over ``route`` before the monotonic ``deadline``.

        ``estimated_tokens`` (prompt plus output, e.g. from the screen stage's reservation) spares a second
        tokenisation for provider rate tracking; without it the completer counts. ``on_delta``: stream the
        provider calls and feed their text there as it arrives (an answer from the store or from a concurrent
        duplicate's call feeds nothing).
        """
        ...


class GatewayCompleter:
    """Implements :class:`Completer` over real providers."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        settings: ResilienceSettings,
        *,
        store: CompletionStore | None,
        breakers: BreakerRegistry,
        rates: RateTrackerRegistry,
        claims: RedisCallClaims | None = None,
    ) -> None:
        self._providers = providers
        self._settings = settings
        self._store = store
        self._claims = claims
        self.breakers = breakers
        self.rates = rates
        self._flight: SingleFlight[str, CompletionOutcome] = SingleFlight()

    async def complete(
        self,
        request: LLMRequest,
        route: Route,
        *,
        deadline: float,
        extra_messages: tuple[ChatMessage, ...] = (),
        attempt_key: str = "",
        estimated_tokens: int | None = None,
        on_delta: DeltaSink | None = None,
    ) -> CompletionOutcome:
        """Serve ``request``: from the store when already answered, else through the fallback chain."""
        key = completion_key(request, attempt_key)
        # The store is read inside the flight: a duplicate whose read missed could otherwise start a second call
        # right after the first one finished (and stored its answer).
        return await self._flight.do(
            key, lambda: self._serve(key, request, route, deadline, extra_messages, estimated_tokens, on_delta)
        )

    async def _serve(
        self,
        key: str,
        request: LLMRequest,
        route: Route,
        deadline: float,
        extra: tuple[ChatMessage, ...],
        estimated_tokens: int | None,
        on_delta: DeltaSink | None = None,
    ) -> CompletionOutcome:
        stored, claimed = await self._load_or_claim(key)
        if stored is None and not claimed:
            stored = await self._wait_for_claimant(key, deadline)
        if stored is not None:
            replayed = stored.to_result()
            return CompletionOutcome(replayed.completion, replayed.link, ())
        saved = False
        try:
            with self._claims.holding(key) if self._claims is not None else contextlib.nullcontext():
                result = await self._call(request, route, deadline, extra, key, estimated_tokens, on_delta)
            saved = await self._save_and_release(key, StoredCompletion.from_result(result))
        finally:
            if not saved:
                await self._release(key)
        return CompletionOutcome(result.completion, result.link, tuple(result.attempts))

    async def _load_or_claim(self, key: str) -> tuple[StoredCompletion | None, bool]:
        """The stored completion of ``key``, or whether this worker may call (one round trip with both in Redis)."""
        if self._claims is None or not isinstance(self._store, RedisCompletionStore):
            stored = await self._load(key)
            return stored, stored is None and await self._claim(key)
        try:
            raw, claimed = await self._claims.claim_unless_stored(key, self._store.key(key))
        except (RedisError, OSError) as exc:
            log.warning("completion store and call claims unavailable; redelivery may call providers again: %s", exc)
            return None, True
        return self._store.decode(key, raw), claimed

    async def _save_and_release(self, key: str, stored: StoredCompletion) -> bool:
        """Store the completion and drop the claim; True when the claim is taken care of."""
        if self._claims is None or not isinstance(self._store, RedisCompletionStore):
            await self._save(key, stored)
            return False
        try:
            await self._claims.store_and_release(key, self._store.key(key), stored.model_dump_json(), self._store.ttl_s)
        except (RedisError, OSError) as exc:
            log.warning("could not store completion %s: %s", key, exc)
            return False
        return True

    async def _claim(self, key: str) -> bool:
        """Claim the call across workers; True also when claims are off or Redis is down (serve regardless)."""
        if self._claims is None:
            return True
        try:
            return await self._claims.claim(key)
        except (RedisError, OSError) as exc:
            log.warning("call claims unavailable; a rebalance could call a provider twice meanwhile: %s", exc)
            return True

    async def _wait_for_claimant(self, key: str, deadline: float) -> StoredCompletion | None:
        """Another worker is calling: wait for its completion (None if it gave up or time ran out)."""
        assert self._claims is not None
        found: list[StoredCompletion] = []

        async def ready() -> bool:
            stored = await self._load(key)
            if stored is not None:
                found.append(stored)
            return stored is not None

        try:
            await self._claims.wait_for(key, ready, deadline)
        except (RedisError, OSError) as exc:
            log.warning("lost track of another worker's call for %s: %s", key, exc)
        return found[0] if found else None

    async def _release(self, key: str) -> None:
        if self._claims is None:
            return
        try:
            await self._claims.release(key)
        except (RedisError, OSError) as exc:
            log.warning("could not release the call claim on %s (it expires with its lease): %s", key, exc)

    async def _call(
        self,
        request: LLMRequest,
        route: Route,
        deadline: float,
        extra: tuple[ChatMessage, ...],
        key: str,
        estimated_tokens: int | None,
        on_delta: DeltaSink | None = None,
    ) -> ResilientResult:
        # The key: the schema retry is a different call, a provider must not dedupe it.
        timeout_s = self._settings.attempt_timeout_s
        call = completion_call(request, route, extra, timeout_s=timeout_s, key=key, on_delta=on_delta)
        messages = call.messages
        result = await complete_resilient(
            call,
            route.chain,
            self._providers,
            breakers=self.breakers,
            rates=self.rates,
            settings=self._settings,
            deadline_monotonic=deadline,
            estimated_tokens=estimated_tokens or count_chat(messages, request.system) + request.max_tokens,
            clock=time.monotonic,
        )
        return result

    async def _load(self, key: str) -> StoredCompletion | None:
        if self._store is None:
            return None
        try:
            return await self._store.get(key)
        except (RedisError, OSError) as exc:
            log.warning("completion store unavailable; redelivered requests may call providers again: %s", exc)
            return None

    async def _save(self, key: str, stored: StoredCompletion) -> None:
        if self._store is None:
            return
        try:
            await self._store.put(key, stored)
        except (RedisError, OSError) as exc:
            log.warning("could not store completion %s: %s", key, exc)
