"""Account: token and cost accounting, the result and the usage event of one settled request."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway.catalog import ModelSpec
from gateway.logs import payload_fields
from gateway.model_tokens import TokenCounter, counter_for
from gateway.pricing import cost_usd, flat_usd, price_of
from gateway.settings import Settings
from gateway.token_counts import TokenCounts
from schemas.internal import Settlement
from schemas.result import LLMResult, RouteInfo, TokenUsage
from schemas.usage import UsageEvent

log = logging.getLogger(__name__)

# Attempt outcomes that never reached a provider (skipped links) and so are not counted as attempts.
SKIPPED_OUTCOMES = frozenset({"circuit_open", "local_rate_limit"})


@dataclass(frozen=True, slots=True)
class Charge:
    """What one request consumed: its tokens by kind, their list cost and what budgets are charged.

    ``usd`` is ``None`` when the model has no known price; budgets are then charged ``budget_usd``, the tokens at
    the configured ``pricing.unknown_usd_per_mtok`` (never a silent 0).
    """

    counts: TokenCounts
    usd: float | None
    budget_usd: float
    saved_usd: float = 0.0
    price_source: str | None = None
    lane_saved_usd: float = 0.0

    @property
    def input_tokens(self) -> int:
        """All prompt tokens."""
        return self.counts.input_tokens

    @property
    def output_tokens(self) -> int:
        """All generated tokens."""
        return self.counts.output_tokens


NO_CHARGE = Charge(TokenCounts(), 0.0, 0.0)


def counts_of(settlement: Settlement, settings: Settings) -> TokenCounts:
    """The token split of an answered settlement: the provider's counts when reported, else the model's encoding's
    (cl100k_base for a model not in the catalog)."""
    request = settlement.request
    spec = settings.models.get(settlement.model) if settlement.model is not None else None
    counter = counter_for(spec) if spec is not None else TokenCounter("cl100k_base")
    input_tokens = settlement.input_tokens
    if input_tokens is None:
        input_tokens = counter.chat([m.model_dump() for m in request.messages], request.system)
    output_tokens = settlement.output_tokens
    if output_tokens is None:
        output_tokens = counter.text(settlement.output or "")
    cached = min(settlement.cached_input_tokens or 0, input_tokens)
    return TokenCounts(
        input_tokens=input_tokens,
        cached_input_tokens=cached,
        cache_write_tokens=min(settlement.cache_write_tokens or 0, input_tokens - cached),
        output_tokens=output_tokens,
        reasoning_tokens=min(settlement.reasoning_tokens or 0, output_tokens),
    )


def charge_of(settlement: Settlement, settings: Settings) -> Charge:
    """Tokens and cost of a settlement: every token kind at its own rate, whenever a provider answered (an error
    raised after the answer included); cache hits cost nothing (and save what the answer cost); a model without a
    price costs ``None`` and is charged to budgets at the configured rate.
    A cascade costs the sum of its steps (each priced by :func:`agents.cascade.step_cost`)."""
    if settlement.cascade and not settlement.cached:
        # Every step was paid for, each on its own model, even when no step's answer passed in the end.
        usd = round(sum(step.cost_usd for step in settlement.cascade), 10)
        return Charge(TokenCounts.of(settlement), usd, usd)
    model = settlement.model
    if model is None or not _paid(settlement):
        return NO_CHARGE
    counts = counts_of(settlement, settings)
    spec = settings.models.get(model)
    price = price_of(spec, settlement.lane) if spec is not None else None
    source = price.source if price is not None else None
    if settlement.cached:
        saved = cost_usd(price, counts) if price is not None else 0.0
        return Charge(counts, 0.0, 0.0, saved_usd=saved, price_source=source)
    if price is None:
        _warn_unpriced(model)
        return Charge(counts, None, flat_usd(counts.total, settings.pricing.unknown_usd_per_mtok))
    usd = cost_usd(price, counts)
    return Charge(counts, usd, usd, price_source=source, lane_saved_usd=_lane_saving(spec, counts, usd, settlement))


def _paid(settlement: Settlement) -> bool:
    """Whether a provider answered this request (given it names a model), and so was paid: every ``ok`` answer,
    and an ``error`` raised after the answer arrived (``output_invalid`` after the schema retry, an output guard's
    block): its tokens were billed, so they are charged like any other and the usage event says what was paid."""
    if settlement.status == "ok" or settlement.cached:
        return settlement.status == "ok" and settlement.output is not None
    return settlement.status == "error" and bool(settlement.input_tokens or settlement.output_tokens)


def _lane_saving(spec: ModelSpec | None, counts: TokenCounts, usd: float, settlement: Settlement) -> float:
    """What a batch answer saved against the interactive price of the same tokens (0 in the interactive lane)."""
    if settlement.lane != "batch" or spec is None:
        return 0.0
    interactive = price_of(spec)
    return 0.0 if interactive is None else round(cost_usd(interactive, counts) - usd, 10)


_warned: set[str] = set()


def _warn_unpriced(model: str) -> None:
    """Warn once per model and process (the metric counts every request)."""
    if model not in _warned:
        _warned.add(model)
        log.warning("model %r has no known price: cost_usd is null, budgets charge the unknown-price rate", model)


def provider_attempts(settlement: Settlement) -> int:
    """Attempts that actually called a provider."""
    return sum(1 for a in settlement.attempt_log if a.outcome not in SKIPPED_OUTCOMES)


def build_outputs(settlement: Settlement, charge: Charge, now_ms: int) -> tuple[LLMResult, UsageEvent]:
    """The result for the client and the usage event for analysts (which never carries prompt or output)."""
    request = settlement.request
    latency_ms = float(max(0, now_ms - settlement.received_ms))
    attempts = provider_attempts(settlement)
    counts = charge.counts
    result = LLMResult(
        id=request.id,
        status=settlement.status,
        output=settlement.output,
        parsed=settlement.parsed,
        model=settlement.model,
        provider=settlement.provider,
        usage=TokenUsage(**counts.as_fields()),
        cost_usd=charge.usd,
        price_known=charge.usd is not None,
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
        guards=settlement.guards,
        lane=settlement.lane,
        batch_job_id=settlement.batch_job_id,
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
        **counts.as_fields(),
        cost_usd=charge.usd,
        price_known=charge.usd is not None,
        price_source=charge.price_source,
        saved_usd=charge.saved_usd,
        cached=settlement.cached,
        cache_hit=settlement.cache_hit,
        coalesced=settlement.coalesced,
        latency_ms=latency_ms,
        attempts=attempts,
        ts_ms=now_ms,
        prompt_name=settlement.prompt_name,
        prompt_version=settlement.prompt_version,
        cascade_steps=len(settlement.cascade),
        lane=settlement.lane,
        batch_job_id=settlement.batch_job_id,
        lane_saved_usd=charge.lane_saved_usd,
    )
    return result, usage


def log_settled(settlement: Settlement, charge: Charge, settings: Settings) -> None:
    """A DEBUG line per settled request (ids, outcome, cost); prompt and output only with ``debug_payloads``,
    redacted. Nothing is built unless DEBUG is on."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    request = settlement.request
    prompt = "\n".join(m.content for m in request.messages or ())
    extra = {
        "request_id": request.id,
        "tenant": request.tenant,
        "stage": "account",
        "status": settlement.status,
        "model": settlement.model,
        "cost_usd": charge.usd,
        **payload_fields(settings.logging, prompt=prompt, output=settlement.output),
    }
    log.debug("settled %s", request.id, extra=extra)
