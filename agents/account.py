"""Account: token and cost accounting, the result and the usage event of one settled request."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.model_tokens import TokenCounter, counter_for
from gateway.pricing import cost_usd
from gateway.settings import Settings
from schemas.internal import Settlement
from schemas.result import LLMResult, RouteInfo, TokenUsage
from schemas.usage import UsageEvent

# Attempt outcomes that never reached a provider (skipped links) and so are not counted as attempts.
SKIPPED_OUTCOMES = frozenset({"circuit_open", "local_rate_limit"})


@dataclass(frozen=True, slots=True)
class Charge:
    """What one request consumed: tokens and their cost."""

    input_tokens: int
    output_tokens: int
    usd: float
    saved_usd: float = 0.0


def charge_of(settlement: Settlement, settings: Settings) -> Charge:
    """Tokens and cost: the provider's counts when reported, else the model's encoding's; cache hits cost nothing and
    save what the same tokens would have cost at the model's prices."""
    if settlement.cascade and not settlement.cached:
        # Every step was paid for, each on its own model, even when no step's answer passed in the end.
        usd = round(sum(step.cost_usd for step in settlement.cascade), 10)
        return Charge(settlement.input_tokens or 0, settlement.output_tokens or 0, usd)
    if settlement.status != "ok" or settlement.output is None or settlement.model is None:
        return Charge(0, 0, 0.0)
    request = settlement.request
    spec = settings.models.get(settlement.model)
    # The provider's counts win; without them, the model's own encoding (cl100k_base for an unknown model).
    counter = counter_for(spec) if spec is not None else TokenCounter("cl100k_base")
    input_tokens = settlement.input_tokens
    if input_tokens is None:
        input_tokens = counter.chat([m.model_dump() for m in request.messages], request.system)
    output_tokens = settlement.output_tokens
    if output_tokens is None:
        output_tokens = counter.text(settlement.output)
    if spec is None:
        return Charge(input_tokens, output_tokens, 0.0)
    priced = cost_usd(spec, input_tokens, output_tokens)
    if settlement.cached:
        return Charge(input_tokens, output_tokens, 0.0, saved_usd=priced)
    return Charge(input_tokens, output_tokens, priced)


def provider_attempts(settlement: Settlement) -> int:
    """Attempts that actually called a provider."""
    return sum(1 for a in settlement.attempt_log if a.outcome not in SKIPPED_OUTCOMES)


def build_outputs(settlement: Settlement, charge: Charge, now_ms: int) -> tuple[LLMResult, UsageEvent]:
    """The result for the client and the usage event for analysts (which never carries prompt or output)."""
    request = settlement.request
    latency_ms = float(max(0, now_ms - settlement.received_ms))
    attempts = provider_attempts(settlement)
    result = LLMResult(
        id=request.id,
        status=settlement.status,
        output=settlement.output,
        parsed=settlement.parsed,
        model=settlement.model,
        provider=settlement.provider,
        usage=TokenUsage(input_tokens=charge.input_tokens, output_tokens=charge.output_tokens),
        cost_usd=charge.usd,
        cached=settlement.cached,
        cache_hit=settlement.cache_hit,
        cache_similarity=settlement.cache_similarity,
        coalesced=settlement.coalesced,
        error=settlement.error,
        latency_ms=latency_ms,
        attempts=attempts,
        attempt_log=settlement.attempt_log,
        route=RouteInfo(task=request.task, cascade=settlement.cascade) if settlement.cascade else None,
        prompt_name=settlement.prompt_name,
        prompt_version=settlement.prompt_version,
        metadata=request.metadata,
    )
    usage = UsageEvent(
        request_id=request.id,
        tenant=request.tenant,
        user=request.user,
        task=request.task,
        model=settlement.model,
        provider=settlement.provider,
        status=settlement.status,
        error_code=settlement.error.code.value if settlement.error else None,
        input_tokens=charge.input_tokens,
        output_tokens=charge.output_tokens,
        cost_usd=charge.usd,
        cached=settlement.cached,
        cache_hit=settlement.cache_hit,
        coalesced=settlement.coalesced,
        saved_usd=charge.saved_usd,
        latency_ms=latency_ms,
        attempts=attempts,
        ts_ms=now_ms,
        prompt_name=settlement.prompt_name,
        prompt_version=settlement.prompt_version,
        cascade_steps=len(settlement.cascade),
    )
    return result, usage
