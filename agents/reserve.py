"""The worst case a route plan can cost, for the reservation screening makes.

Each step is priced at its worst: the prompt it sends (its trimmed turns) counted with each link's own encoding
and scaled by ``input_token_margin``, plus the full ``max_tokens``, on the dearest link of its fallback chain. A
cascade may run every step, so the worst case is the sum over its steps. Every request is priced at the interactive
rate, a batch-lane request included: its batch may fail or expire and hand it back to the interactive lane, where it
is charged in full, and the budget bound must hold then too (it is charged the batch price when its batch answers).
"""

from __future__ import annotations

import math

from agents.job import RoutePlan
from agents.validate import CORRECTION_MAX_CHARS
from gateway.catalog import ModelSpec
from gateway.context_window import drop_oldest_turns, prompt_tokens
from gateway.limits.decide import Estimate
from gateway.model_tokens import TOKENS_PER_MESSAGE
from gateway.pricing import price_of, worst_case_usd
from gateway.resilience.chain import Route
from gateway.settings import Settings
from schemas.request import LLMRequest


def plan_estimate(request: LLMRequest, plan: RoutePlan, settings: Settings) -> Estimate:
    """The worst case of serving ``request`` over ``plan``: summed over steps, dearest link of each step, plus the
    schema retry a ``response_format`` request may make."""
    prompts = [_link_prompts(request, step, settings) for step in plan.steps]
    steps = [_dearest(request, links, settings) for links in prompts]
    if request.response_format is not None and not plan.is_cascade:
        # The retry re-sends the first step's prompt with the rejected answer and the correction appended.
        steps.append(_dearest(request, prompts[0], settings, extra_prompt_tokens=_retry_turns(request)))
    return Estimate(
        input_tokens=sum(tokens for tokens, _ in steps),
        max_output_tokens=request.max_tokens * len(steps),
        worst_case_usd=sum(usd for _, usd in steps),
    )


def _link_prompts(request: LLMRequest, step: Route, settings: Settings) -> list[tuple[ModelSpec, int]]:
    """Each link of ``step``'s fallback chain with the prompt tokens of the step's turns in its encoding."""
    messages = drop_oldest_turns(request.messages, step.drop_turns)
    specs = [settings.models[link.model] for link in step.chain]
    return [(spec, prompt_tokens(spec, messages, request.system)) for spec in specs]


def _dearest(
    request: LLMRequest, links: list[tuple[ModelSpec, int]], settings: Settings, extra_prompt_tokens: int = 0
) -> tuple[int, float]:
    """The most prompt tokens, and the dearest worst case, over ``links`` (a step's chain, its prompts counted)."""
    step_tokens = 0
    step_usd = 0.0
    unknown_rate = settings.pricing.unknown_usd_per_mtok
    for spec, prompt in links:
        tokens = math.ceil((prompt + extra_prompt_tokens) * settings.input_token_margin)
        step_tokens = max(step_tokens, tokens)
        step_usd = max(step_usd, worst_case_usd(price_of(spec), tokens, request.max_tokens, unknown_rate))
    return step_tokens, step_usd


def _retry_turns(request: LLMRequest) -> int:
    """The most tokens the schema retry's two extra turns can add: the rejected answer (at most ``max_tokens``)
    and the corrective turn, counted at one token per UTF-8 byte of it (no byte-level BPE needs more)."""
    return request.max_tokens + 2 * TOKENS_PER_MESSAGE + 4 * CORRECTION_MAX_CHARS
