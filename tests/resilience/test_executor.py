"""The fallback-chain executor, driven by scripted providers, a fake clock and recorded sleeps."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gateway.catalog import DEFAULT_MODELS
from gateway.errors import (
    ConfigError,
    DeadlineExceeded,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderRateLimited,
    ProviderUnavailable,
    StreamgateError,
)
from gateway.providers.base import Completion, CompletionCall
from gateway.resilience import (
    LOCAL_RATE_LIMIT,
    AllLinksFailed,
    BreakerRegistry,
    BreakerState,
    ChainDeadlineExceeded,
    ChainLink,
    RateTrackerRegistry,
    ResilienceSettings,
    attempts_of,
    build_chain,
    complete_resilient,
    link_errors_of,
)
from schemas.codes import ErrorCode

PRIMARY = ChainLink(model="gpt-4o", provider="openai", upstream="gpt-4o-2024")
FALLBACK = ChainLink(model="claude-3-5-haiku", provider="anthropic", upstream="claude-3-5-haiku-latest")
THIRD = ChainLink(model="gemini", provider="google", upstream="gemini-2")
CHAIN = [PRIMARY, FALLBACK]


def e500(provider: str = "openai") -> ProviderUnavailable:
    return ProviderUnavailable("upstream 500", provider=provider, model="x", status=500)


def outcomes(attempts: list[Any]) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome) for a in attempts]


async def test_first_link_answers(make_harness: Any) -> None:
    h = make_harness(attempt_timeout_s=7)
    openai = h.provider("openai", "hello", latency_s=0.25)
    result = await h.run(CHAIN, {"openai": openai, "anthropic": h.provider("anthropic", "no")})
    assert result.completion.text == "hello"
    assert result.link == PRIMARY and not result.fallback_used
    assert outcomes(result.attempts) == [("openai", "ok")]
    assert result.attempts[0].model == "gpt-4o"
    assert result.attempts[0].latency_ms == pytest.approx(250)
    (call,) = openai.calls
    assert call.model == "gpt-4o-2024"  # the upstream name is sent
    assert call.timeout_s == 7
    assert call.messages == [{"role": "user", "content": "hi"}]
    assert h.breakers.get("openai", "gpt-4o").snapshot().window_calls == 1
    assert h.rates.get("openai", "gpt-4o").snapshot().tokens == 100


async def test_bad_request_is_neither_retried_nor_fallen_back(make_harness: Any) -> None:
    h = make_harness()
    openai = h.provider("openai", ProviderBadRequest("bad schema", provider="openai", model="x", status=400))
    anthropic = h.provider("anthropic", "never")
    with pytest.raises(ProviderBadRequest) as info:
        await h.run(CHAIN, {"openai": openai, "anthropic": anthropic})
    assert len(openai.calls) == 1 and anthropic.calls == []
    assert h.sleep.delays == []
    assert [(a.outcome, a.status) for a in attempts_of(info.value)] == [("provider_bad_request", 400)]
    assert link_errors_of(info.value)[0]["code"] == ErrorCode.PROVIDER_BAD_REQUEST
    # Our bad request says nothing about the provider.
    snap = h.breakers.get("openai", "gpt-4o").snapshot()
    assert snap.window_calls == 0 and snap.consecutive_failures == 0


async def test_5xx_is_retried_then_the_fallback_answers(make_harness: Any) -> None:
    h = make_harness()  # 3 attempts per link, base 0.2 s
    openai = h.provider("openai", e500())
    anthropic = h.provider("anthropic", "from haiku")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": anthropic})
    assert result.completion.text == "from haiku"
    assert result.link == FALLBACK and result.link_index == 1 and result.fallback_used
    assert len(openai.calls) == 3 and len(anthropic.calls) == 1
    assert outcomes(result.attempts) == [("openai", "provider_unavailable")] * 3 + [("anthropic", "ok")]
    assert all(a.status == 500 for a in result.attempts[:3])
    # Two backoffs on the first link (none after its last attempt), each within its full-jitter range.
    assert len(h.sleep.delays) == 2
    assert 0 <= h.sleep.delays[0] <= 0.2 and 0 <= h.sleep.delays[1] <= 0.4
    assert anthropic.calls[0].model == "claude-3-5-haiku-latest"


async def test_5xx_retried_on_the_same_link_until_it_answers(make_harness: Any) -> None:
    h = make_harness()
    openai = h.provider("openai", e500(), "second time lucky")
    anthropic = h.provider("anthropic", "never")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": anthropic})
    assert result.completion.text == "second time lucky" and result.link == PRIMARY
    assert outcomes(result.attempts) == [("openai", "provider_unavailable"), ("openai", "ok")]
    assert anthropic.calls == [] and len(h.sleep.delays) == 1


async def test_per_model_retry_override(make_harness: Any) -> None:
    h = make_harness(retry={"gpt-4o": {"max_attempts": 1}})
    openai = h.provider("openai", e500())
    anthropic = h.provider("anthropic", e500("anthropic"), "ok")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": anthropic})
    assert len(openai.calls) == 1 and len(anthropic.calls) == 2  # the default policy still applies to haiku
    assert result.link == FALLBACK


async def test_auth_error_falls_back_without_retry(make_harness: Any) -> None:
    h = make_harness()
    openai = h.provider("openai", ProviderAuthError("bad key", provider="openai", model="x", status=401))
    anthropic = h.provider("anthropic", "fine")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": anthropic})
    assert len(openai.calls) == 1 and result.link == FALLBACK
    assert outcomes(result.attempts) == [("openai", "provider_auth"), ("anthropic", "ok")]
    assert h.sleep.delays == []


async def test_retry_after_is_respected(make_harness: Any) -> None:
    h = make_harness()
    limited = ProviderRateLimited("slow down", provider="openai", model="x", status=429, retry_after_s=2.5)
    openai = h.provider("openai", limited, "after the wait")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": h.provider("anthropic", "never")})
    assert result.completion.text == "after the wait"
    assert h.sleep.delays == [2.5]  # jitter ceiling 0.2 s < Retry-After
    assert result.attempts[0].outcome == "provider_rate_limited" and result.attempts[0].status == 429


async def test_retry_after_beyond_the_deadline_falls_back_at_once(make_harness: Any) -> None:
    h = make_harness()
    limited = ProviderRateLimited("slow down", provider="openai", model="x", status=429, retry_after_s=20)
    openai = h.provider("openai", limited, "too late")
    anthropic = h.provider("anthropic", "fallback")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": anthropic}, budget_s=10)
    assert result.link == FALLBACK and len(openai.calls) == 1
    assert h.sleep.delays == []


async def test_breaker_opens_and_the_next_request_skips_the_link(make_harness: Any) -> None:
    h = make_harness(breaker={"failure_threshold": 3})
    openai = h.provider("openai", e500())
    anthropic = h.provider("anthropic", "haiku")
    providers = {"openai": openai, "anthropic": anthropic}
    await h.run(CHAIN, providers)
    assert h.breakers.get("openai", "gpt-4o").state is BreakerState.OPEN
    calls_before = len(openai.calls)
    result = await h.run(CHAIN, providers)
    assert len(openai.calls) == calls_before  # zero attempts on the open circuit
    assert outcomes(result.attempts) == [("openai", "circuit_open"), ("anthropic", "ok")]
    assert result.attempts[0].latency_ms == 0


async def test_breaker_opened_mid_request_stops_retrying_that_link(make_harness: Any) -> None:
    h = make_harness(breaker={"failure_threshold": 2}, default_retry={"max_attempts": 5})
    openai = h.provider("openai", e500())
    result = await h.run(CHAIN, {"openai": openai, "anthropic": h.provider("anthropic", "haiku")})
    assert len(openai.calls) == 2 and len(h.sleep.delays) == 1
    assert result.link == FALLBACK


async def test_open_circuit_goes_straight_to_the_fallback(make_harness: Any) -> None:
    h = make_harness(breaker={"failure_threshold": 1})
    h.breakers.get("openai", "gpt-4o").record_failure()
    openai = h.provider("openai", "never")
    result = await h.run(CHAIN, {"openai": openai, "anthropic": h.provider("anthropic", "haiku")})
    assert openai.calls == []
    assert outcomes(result.attempts) == [("openai", "circuit_open"), ("anthropic", "ok")]


@pytest.mark.parametrize(("probe", "state", "winner"), [("ok", "closed", PRIMARY), ("fail", "open", FALLBACK)])
async def test_half_open_probe_closes_or_reopens(make_harness: Any, probe: str, state: str, winner: ChainLink) -> None:
    h = make_harness(breaker={"failure_threshold": 1, "cooldown_s": 30})
    breaker = h.breakers.get("openai", "gpt-4o")
    breaker.record_failure()
    h.clock.advance(30)
    assert breaker.state is BreakerState.HALF_OPEN
    openai = h.provider("openai", "probe ok" if probe == "ok" else e500())
    result = await h.run(CHAIN, {"openai": openai, "anthropic": h.provider("anthropic", "haiku")})
    assert len(openai.calls) == 1  # exactly one probe, no retries on a reopened circuit
    assert breaker.state == state and result.link == winner


async def test_cancelled_probe_frees_its_slot(make_harness: Any) -> None:
    h = make_harness(breaker={"failure_threshold": 1, "cooldown_s": 1})
    breaker = h.breakers.get("openai", "gpt-4o")
    breaker.record_failure()
    h.clock.advance(1)
    started = asyncio.Event()

    class Stuck:
        name = "openai"

        async def complete(self, call: CompletionCall) -> Completion:
            started.set()
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def aclose(self) -> None:
            return None

    task = asyncio.ensure_future(h.run([PRIMARY], {"openai": Stuck()}))
    await started.wait()
    assert not breaker.allow()  # the probe holds the only slot
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.state is BreakerState.HALF_OPEN and breaker.allow()


async def test_rate_tracker_routes_to_the_fallback_before_a_429(make_harness: Any) -> None:
    h = make_harness(limits={"gpt-4o": {"rpm": 2}})
    openai = h.provider("openai", "gpt")
    anthropic = h.provider("anthropic", "haiku")
    providers = {"openai": openai, "anthropic": anthropic}
    links = [(await h.run(CHAIN, providers)).link for _ in range(2)]
    assert links == [PRIMARY, PRIMARY]
    third = await h.run(CHAIN, providers)
    assert third.link == FALLBACK and len(openai.calls) == 2
    assert outcomes(third.attempts) == [("openai", LOCAL_RATE_LIMIT), ("anthropic", "ok")]
    h.clock.advance(61)  # the minute has passed
    assert (await h.run(CHAIN, providers)).link == PRIMARY


async def test_tpm_limit_uses_the_estimate(make_harness: Any) -> None:
    h = make_harness(limits={"gpt-4o": {"tpm": 1_000}})
    providers = {"openai": h.provider("openai", "gpt"), "anthropic": h.provider("anthropic", "haiku")}
    assert (await h.run(CHAIN, providers, estimated_tokens=900)).link == PRIMARY
    assert (await h.run(CHAIN, providers, estimated_tokens=200)).link == FALLBACK
    assert (await h.run(CHAIN, providers, estimated_tokens=100)).link == PRIMARY


@pytest.mark.parametrize("seed", range(5))
async def test_deadline_is_never_overrun(make_harness: Any, seed: int) -> None:
    h = make_harness(seed=seed, attempt_timeout_s=3, default_retry={"max_attempts": 5, "base_delay_s": 0.5})
    openai = h.provider("openai", h.HANG)
    anthropic = h.provider("anthropic", h.HANG)
    start = h.clock()
    with pytest.raises(ChainDeadlineExceeded) as info:
        await h.run(CHAIN, {"openai": openai, "anthropic": anthropic}, budget_s=10)
    err = info.value
    assert isinstance(err, DeadlineExceeded) and err.code is ErrorCode.DEADLINE_EXCEEDED
    timeouts = [c.timeout_s for c in openai.calls + anthropic.calls]
    assert all(0 < t <= 3 for t in timeouts)
    assert sum(h.sleep.delays) + sum(timeouts) <= 10 + 1e-9
    assert h.clock() - start <= 10 + 1e-9
    assert len(err.attempts) == len(timeouts) and all(a.outcome == "provider_timeout" for a in err.attempts)
    assert err.link_errors  # the failures seen before time ran out


async def test_deadline_clipped_timeout_does_not_count_against_the_breaker(make_harness: Any) -> None:
    h = make_harness(attempt_timeout_s=30, breaker={"failure_threshold": 1})
    openai = h.provider("openai", h.HANG)
    with pytest.raises(ChainDeadlineExceeded):
        await h.run([PRIMARY], {"openai": openai}, budget_s=2)
    assert openai.calls[0].timeout_s == 2
    assert h.breakers.get("openai", "gpt-4o").state is BreakerState.CLOSED


async def test_passed_deadline_makes_no_attempt(make_harness: Any) -> None:
    h = make_harness()
    openai = h.provider("openai", "never")
    with pytest.raises(ChainDeadlineExceeded) as info:
        await h.run(CHAIN, {"openai": openai}, budget_s=0)
    assert openai.calls == [] and info.value.attempts == []


async def test_default_budget_is_max_request_s(make_harness: Any) -> None:
    h = make_harness(max_request_s=5, attempt_timeout_s=30)
    openai = h.provider("openai", h.HANG)
    with pytest.raises(ChainDeadlineExceeded):
        await h.run([PRIMARY], {"openai": openai})
    assert openai.calls[0].timeout_s == 5


async def test_all_links_failed_carries_every_links_error(make_harness: Any) -> None:
    h = make_harness(breaker={"failure_threshold": 10})
    for _ in range(10):
        h.breakers.get("google", "gemini").record_failure()
    assert h.breakers.get("google", "gemini").state is BreakerState.OPEN
    providers = {
        "openai": h.provider("openai", e500()),
        "anthropic": h.provider("anthropic", ProviderAuthError("no", provider="anthropic", model="x", status=403)),
        "google": h.provider("google", "never"),
    }
    with pytest.raises(AllLinksFailed) as info:
        await h.run([PRIMARY, FALLBACK, THIRD], providers)
    err = info.value
    assert isinstance(err, StreamgateError) and err.code is ErrorCode.ALL_PROVIDERS_FAILED
    assert [(e["provider"], e["model"], e["code"], e["status"]) for e in err.link_errors] == [
        ("openai", "gpt-4o", "provider_unavailable", 500),
        ("anthropic", "claude-3-5-haiku", "provider_auth", 403),
        ("google", "gemini", "circuit_open", None),
    ]
    assert all(e["message"] for e in err.link_errors)
    assert outcomes(err.attempts) == [("openai", "provider_unavailable")] * 3 + [
        ("anthropic", "provider_auth"),
        ("google", "circuit_open"),
    ]
    assert attempts_of(err) == err.attempts


async def test_unconfigured_provider_is_skipped(make_harness: Any) -> None:
    h = make_harness()
    result = await h.run(CHAIN, {"anthropic": h.provider("anthropic", "haiku")})
    assert outcomes(result.attempts) == [("openai", "provider_unavailable"), ("anthropic", "ok")]


async def test_contract_breaking_adapter_becomes_a_bad_response(make_harness: Any) -> None:
    h = make_harness(default_retry={"max_attempts": 1})
    providers = {
        "openai": h.provider("openai", KeyError("choices")),
        "anthropic": h.provider("anthropic", "ok"),
    }
    result = await h.run(CHAIN, providers)
    assert result.attempts[0].outcome == "provider_bad_response"


async def test_executor_enforces_the_attempt_timeout_itself() -> None:
    """An adapter that ignores ``call.timeout_s`` is still cut off (real clock, 50 ms)."""

    class Slow:
        name = "openai"

        async def complete(self, call: CompletionCall) -> Completion:
            await asyncio.sleep(10)
            raise AssertionError("unreachable")

        async def aclose(self) -> None:
            return None

    class Fast(Slow):
        name = "anthropic"

        async def complete(self, call: CompletionCall) -> Completion:
            return Completion("anthropic", call.model, "quick", 1, 1)

    settings = ResilienceSettings.model_validate({"attempt_timeout_s": 0.05, "default_retry": {"max_attempts": 1}})
    started = time.monotonic()
    result = await complete_resilient(
        CompletionCall(model="x", messages=[], max_tokens=1),
        CHAIN,
        {"openai": Slow(), "anthropic": Fast()},
        breakers=BreakerRegistry(settings.breaker),
        rates=RateTrackerRegistry(settings.limits),
        settings=settings,
    )
    assert time.monotonic() - started < 1
    assert [a.outcome for a in result.attempts] == ["provider_timeout", "ok"]


def test_build_chain_and_model_checks() -> None:
    settings = ResilienceSettings(fallbacks={"gpt-4o": ["gpt-4o-mini", "gpt-4o", "claude-3-5-haiku"]})
    chain = build_chain("gpt-4o", DEFAULT_MODELS, settings)
    assert [(link.model, link.provider, link.upstream) for link in chain] == [
        ("gpt-4o", "openai", "gpt-4o"),
        ("gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("claude-3-5-haiku", "anthropic", "claude-3-5-haiku-latest"),
    ]
    assert build_chain("claude-sonnet-4", DEFAULT_MODELS, settings)[0].model == "claude-sonnet-4"
    settings.check_models(DEFAULT_MODELS)
    broken = ResilienceSettings(fallbacks={"gpt-4o": ["gpt-5"]})
    with pytest.raises(ConfigError, match="gpt-5"):
        build_chain("gpt-4o", DEFAULT_MODELS, broken)
    with pytest.raises(ConfigError, match="gpt-5"):
        broken.check_models(DEFAULT_MODELS)
