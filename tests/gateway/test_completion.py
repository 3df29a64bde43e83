"""GatewayCompleter against the real provider simulator and a real Redis: at most one provider call per request
id (stored answers, coalesced duplicates), a separate slot for the schema retry, and no dependency on Redis."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from agents.job import RoutePlan
from agents.route import choose_route
from gateway.call_claims import RedisCallClaims
from gateway.completion import CompletionOutcome, GatewayCompleter, completion_key
from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import Provider
from gateway.providers.openai_provider import OpenAIProvider
from gateway.resilience.breaker import BreakerRegistry
from gateway.resilience.chain import Route
from gateway.resilience.idempotency import RedisCompletionStore, StoredCompletion
from gateway.resilience.provider_limits import RateTrackerRegistry
from gateway.settings import Settings, load_settings
from gateway.simulator.server import SimulatorServer
from schemas.request import ChatMessage, LLMRequest
from tests.support.factories import make_request
from tests.support.ports import closed_redis_url

SETTINGS: Settings = load_settings()
BUDGET_S = 20.0


@pytest_asyncio.fixture(scope="module")
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(host="127.0.0.1", port=0) as server:
        yield server


@pytest_asyncio.fixture(scope="module")
async def providers(sim: SimulatorServer) -> AsyncIterator[dict[str, Provider]]:
    built: dict[str, Provider] = {
        "openai": OpenAIProvider(api_key="sk-test", base_url=sim.openai_base_url, max_connections=32),
        "anthropic": AnthropicProvider(api_key="sk-ant-test", base_url=sim.anthropic_base_url, max_connections=32),
    }
    yield built
    for provider in built.values():
        await provider.aclose()


class TrackingStore(RedisCompletionStore):
    """A store that remembers which keys it wrote, so a test can delete exactly those."""

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client, prefix=f"sgtest-{uuid.uuid4().hex[:8]}:completion:", ttl_s=120)
        self.written: list[str] = []

    async def put(self, request_id: str, completion: StoredCompletion) -> bool:
        self.written.append(self.key(request_id))
        return await super().put(request_id, completion)


@pytest_asyncio.fixture
async def store(redis_client: aioredis.Redis) -> AsyncIterator[TrackingStore]:
    """A store under a prefix of its own; the keys it wrote are deleted afterwards."""
    completions = TrackingStore(redis_client)
    yield completions
    if completions.written:
        await redis_client.delete(*completions.written)


def completer_for(
    providers: dict[str, Provider], store: RedisCompletionStore | None, claims: RedisCallClaims | None = None
) -> GatewayCompleter:
    return GatewayCompleter(
        providers,
        SETTINGS.resilience,
        store=store,
        breakers=BreakerRegistry(SETTINGS.resilience.breaker),
        rates=RateTrackerRegistry(SETTINGS.resilience.limits),
        claims=claims,
    )


def routed(text: str = "Name a colour.") -> tuple[LLMRequest, Route]:
    request = make_request(f"{text} ({uuid.uuid4().hex[:6]})", max_tokens=32)
    plan = choose_route(request, SETTINGS)
    assert isinstance(plan, RoutePlan)
    return request, plan.first


def deadline() -> float:
    return time.monotonic() + BUDGET_S


async def test_a_second_call_for_the_same_id_is_answered_from_the_store(
    sim: SimulatorServer, providers: dict[str, Provider], store: TrackingStore
) -> None:
    request, route = routed()
    first = await completer_for(providers, store).complete(request, route, deadline=deadline())
    assert first.completion.text and len(first.attempts) == 1 and first.attempts[0].outcome == "ok"
    # A new completer stands for a restarted worker: only Redis remembers the answer.
    again = await completer_for(providers, store).complete(request, route, deadline=deadline())
    assert sim.stats.calls_for(request.id) == 1
    assert again.completion == first.completion and again.link == first.link
    assert again.attempts == ()  # replayed: no attempt was made


async def test_two_tenants_that_pick_the_same_id_each_get_their_own_answer(
    sim: SimulatorServer, providers: dict[str, Provider], store: TrackingStore
) -> None:
    """Request ids are the clients' choice: the store is scoped by tenant, so one tenant's stored answer is never
    served to another tenant that happened to use the same id."""
    request, route = routed("Echo this. #sim:echo")
    other = [ChatMessage(role="user", content="Something else entirely. #sim:echo")]
    theirs = request.model_copy(update={"tenant": "globex", "messages": other})
    first = await completer_for(providers, store).complete(request, route, deadline=deadline())
    second = await completer_for(providers, store).complete(theirs, route, deadline=deadline())
    assert sim.stats.calls_for(request.id) == 2
    assert first.completion.text != second.completion.text
    assert "Something else entirely" in second.completion.text


async def test_twenty_concurrent_duplicates_make_one_provider_call(
    sim: SimulatorServer, providers: dict[str, Provider], store: TrackingStore
) -> None:
    request, route = routed("Take your time. #sim:sleep_ms=200")
    completer = completer_for(providers, store)
    outcomes: list[CompletionOutcome] = await asyncio.gather(
        *(completer.complete(request, route, deadline=deadline()) for _ in range(20))
    )
    assert sim.stats.calls_for(request.id) == 1
    assert len({o.completion.text for o in outcomes}) == 1


async def test_the_schema_retry_has_its_own_slot(
    sim: SimulatorServer, providers: dict[str, Provider], store: TrackingStore
) -> None:
    request, route = routed()
    completer = completer_for(providers, store)
    first = await completer.complete(request, route, deadline=deadline())
    correction = (
        ChatMessage(role="assistant", content=first.completion.text),
        ChatMessage(role="user", content="Again, please."),
    )
    retry = await completer.complete(
        request, route, deadline=deadline(), extra_messages=correction, attempt_key="schema-retry"
    )
    assert sim.stats.calls_for(request.id) == 2  # the retry really called the provider
    assert retry.completion.text != first.completion.text  # ...with the corrective turn in the prompt
    stored = await store.get(completion_key(request)), await store.get(completion_key(request, "schema-retry"))
    assert None not in stored
    replay_first = await completer.complete(request, route, deadline=deadline())
    replay_retry = await completer.complete(
        request, route, deadline=deadline(), extra_messages=correction, attempt_key="schema-retry"
    )
    assert sim.stats.calls_for(request.id) == 2
    assert replay_first.completion.text == first.completion.text
    assert replay_retry.completion.text == retry.completion.text


async def test_with_redis_down_requests_are_still_answered(
    sim: SimulatorServer, providers: dict[str, Provider], caplog: pytest.LogCaptureFixture
) -> None:
    dead = aioredis.Redis.from_url(closed_redis_url(), socket_connect_timeout=0.5)
    try:
        completer = completer_for(providers, RedisCompletionStore(dead, ttl_s=60))
        request, route = routed()
        with caplog.at_level(logging.WARNING, logger="gateway.completion"):
            first = await completer.complete(request, route, deadline=deadline())
            again = await completer.complete(request, route, deadline=deadline())
    finally:
        await dead.aclose()
    assert first.completion.text and again.completion.text == first.completion.text
    assert sim.stats.calls_for(request.id) == 2  # no store: redelivery protection is lost, answers are not
    assert "completion store unavailable" in caplog.text and "could not store completion" in caplog.text


async def test_without_a_store_duplicates_in_flight_are_still_coalesced(
    sim: SimulatorServer, providers: dict[str, Provider]
) -> None:
    request, route = routed("Slowly now. #sim:sleep_ms=100")
    completer = completer_for(providers, None)
    await asyncio.gather(*(completer.complete(request, route, deadline=deadline()) for _ in range(5)))
    assert sim.stats.calls_for(request.id) == 1


class StallingStore(TrackingStore):
    """The first ``get`` reads the store, then stalls until released (a slow Redis reply)."""

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self.first_read = asyncio.Event()
        self.release = asyncio.Event()
        self.gets = 0

    async def get(self, request_id: str) -> StoredCompletion | None:
        self.gets += 1
        first = self.gets == 1
        found = await super().get(request_id)
        if first:
            self.first_read.set()
            await self.release.wait()
        return found


@pytest_asyncio.fixture
async def stalling_store(redis_client: aioredis.Redis) -> AsyncIterator[StallingStore]:
    completions = StallingStore(redis_client)
    yield completions
    if completions.written:
        await redis_client.delete(*completions.written)


async def test_a_duplicate_whose_store_read_is_slow_does_not_call_again(
    sim: SimulatorServer, providers: dict[str, Provider], stalling_store: StallingStore
) -> None:
    request, route = routed()
    completer = completer_for(providers, stalling_store)
    late = asyncio.create_task(completer.complete(request, route, deadline=deadline()))
    await stalling_store.first_read.wait()  # the duplicate saw "nothing stored yet"...
    early = asyncio.create_task(completer.complete(request, route, deadline=deadline()))
    await asyncio.wait({early}, timeout=0.3)  # ...and the other copy may be answered meanwhile
    stalling_store.release.set()
    answers = await asyncio.gather(early, late)
    assert sim.stats.calls_for(request.id) == 1
    assert answers[0].completion.text == answers[1].completion.text


async def test_two_workers_calling_the_same_id_at_once_pay_once(
    sim: SimulatorServer, providers: dict[str, Provider], store: TrackingStore, redis_client: aioredis.Redis
) -> None:
    # Two completers with their own single-flight stand for two workers during a rebalance.
    prefix = f"sgtest-{uuid.uuid4().hex[:8]}:claim:"

    def worker() -> GatewayCompleter:
        return completer_for(providers, store, RedisCallClaims(redis_client, prefix=prefix))

    request, route = routed("Both of us? #sim:sleep_ms=300")
    outcomes = await asyncio.gather(*(w.complete(request, route, deadline=deadline()) for w in (worker(), worker())))
    assert sim.stats.calls_for(request.id) == 1
    assert outcomes[0].completion == outcomes[1].completion
    assert await redis_client.exists(prefix + completion_key(request)) == 0  # the claim was released


async def test_a_waiting_worker_calls_itself_when_the_claimant_fails(
    sim: SimulatorServer, providers: dict[str, Provider], store: TrackingStore, redis_client: aioredis.Redis
) -> None:
    claims = RedisCallClaims(redis_client, prefix=f"sgtest-{uuid.uuid4().hex[:8]}:claim:", lease_s=0.3, poll_s=0.02)
    request, route = routed()
    assert await claims.claim(completion_key(request))  # a claimant that dies without an answer: its lease lapses
    completer = completer_for(providers, store, RedisCallClaims(redis_client, prefix=claims.prefix))
    started = time.monotonic()
    outcome = await completer.complete(request, route, deadline=deadline())
    assert outcome.completion.text and sim.stats.calls_for(request.id) == 1
    assert 0.25 <= time.monotonic() - started < 5


async def test_a_claim_is_renewed_while_its_call_runs(redis_client: aioredis.Redis) -> None:
    claims = RedisCallClaims(redis_client, prefix=f"sgtest-{uuid.uuid4().hex[:8]}:claim:", lease_s=0.3)
    assert await claims.claim("long-call")
    with claims.holding("long-call"):
        await asyncio.sleep(0.9)  # three leases: without renewal the claim would be gone
        assert await redis_client.exists(claims.prefix + "long-call") == 1
    await claims.release("long-call")
    assert await redis_client.exists(claims.prefix + "long-call") == 0
