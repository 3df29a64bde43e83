"""The worst case a route plan can cost, for the reservation screening makes.

Each step is priced at its worst: the prompt it sends (its trimmed turns) counted with each link's own encoding
and scaled by ``input_token_margin``, plus the full ``max_tokens``, on the dearest link of its fallback chain. A
cascade may run every step, so the worst case is the sum over its steps. A request the batch lane will take is
priced at the batch rate (:func:`agents.batch_lane.reserved_lane`).
"""

from __future__ import annotations

import math

from agents.batch_lane import reserved_lane
from agents.job import RoutePlan
from gateway.context_window import drop_oldest_turns, prompt_tokens
from gateway.limits.decide import Estimate
from gateway.pricing import price_of, worst_case_usd
from gateway.settings import Settings
from schemas.request import LLMRequest


def plan_estimate(request: LLMRequest, plan: RoutePlan, settings: Settings) -> Estimate:
    """The worst case of serving ``request`` over ``plan``: summed over steps, dearest link of each step."""
    input_tokens = 0
    usd = 0.0
    lane = reserved_lane(request, plan, settings)
    for step in plan.steps:
        messages = drop_oldest_turns(request.messages, step.drop_turns)
        step_tokens = 0
        step_usd = 0.0
        for link in step.chain:
            spec = settings.models[link.model]
            tokens = math.ceil(prompt_tokens(spec, messages, request.system) * settings.input_token_margin)
            step_tokens = max(step_tokens, tokens)
            unknown_rate = settings.pricing.unknown_usd_per_mtok
            step_usd = max(step_usd, worst_case_usd(price_of(spec, lane), tokens, request.max_tokens, unknown_rate))
        input_tokens += step_tokens
        usd += step_usd
    return Estimate(
        input_tokens=input_tokens, max_output_tokens=request.max_tokens * len(plan.steps), worst_case_usd=usd
    )
