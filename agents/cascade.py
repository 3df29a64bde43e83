"""Cascade: call the cheapest step first and escalate while the answer is not good enough.

Each step is its own provider call with its own idempotency key (``cascade-<n>``; the first step keeps the
request's plain key), so a redelivered request replays every step it already paid for from the completion store
and the judge reaches the same verdicts again: no step is ever paid twice. Every step is recorded as
``{model, outcome, cost_usd}``; the request's cost is their sum.
"""

from __future__ import annotations

import logging
import time

from agents.complete import apply_outcome, complete, deadline_for, error_from
from agents.job import Job
from agents.judge import OK, judge_answer
from gateway.completion import Completer, CompletionOutcome
from gateway.context_window import drop_oldest_turns
from gateway.errors import StreamgateError
from gateway.model_tokens import counter_for
from gateway.pricing import cost_usd, price_of
from gateway.resilience.chain import Route
from gateway.resilience.errors import attempts_of
from gateway.settings import Settings
from gateway.token_counts import TokenCounts
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import CascadeStep, ErrorInfo

log = logging.getLogger(__name__)


def step_key(index: int) -> str:
    """The idempotency suffix of cascade step ``index`` (the first step shares the request's own key)."""
    return "" if index == 0 else f"cascade-{index}"


def step_cost(request: LLMRequest, route: Route, outcome: CompletionOutcome, settings: Settings) -> float:
    """What one step cost: the provider's token counts when reported, else the model's own encoding's."""
    spec = settings.models.get(outcome.link.model)
    if spec is None:
        return 0.0
    completion = outcome.completion
    counter = counter_for(spec)
    input_tokens = completion.input_tokens
    if input_tokens is None:
        messages = drop_oldest_turns(request.messages, route.drop_turns)
        input_tokens = counter.chat([{"content": m.content} for m in messages], request.system)
    output_tokens = completion.output_tokens
    if output_tokens is None:
        output_tokens = counter.text(completion.text)
    price = price_of(spec)
    if price is None:  # an unpriced step: its tokens still reach the usage event; see the README's limitations
        return 0.0
    cached = min(completion.cached_input_tokens or 0, input_tokens)
    counts = TokenCounts(
        input_tokens=input_tokens,
        cached_input_tokens=cached,
        cache_write_tokens=min(completion.cache_write_tokens or 0, input_tokens - cached),
        output_tokens=output_tokens,
        reasoning_tokens=min(completion.reasoning_tokens or 0, output_tokens),
    )
    return cost_usd(price, counts)


async def complete_routed(job: Job, completer: Completer, settings: Settings, *, max_request_s: float) -> Job:
    """The complete stage: one call for a one-step route (validation follows), the whole cascade otherwise."""
    if job.finished or job.plan is None or not job.plan.is_cascade:
        return await complete(job, completer, max_request_s=max_request_s)
    return await run_cascade(job, completer, settings, max_request_s=max_request_s)


async def run_cascade(job: Job, completer: Completer, settings: Settings, *, max_request_s: float) -> Job:
    """Run the cascade of ``job.plan``; the first good answer wins, else the last answer (or error) stands."""
    assert job.plan is not None
    request = job.request
    steps: list[CascadeStep] = []
    current = job
    answered: tuple[Job, str] | None = None
    last_error: ErrorInfo | None = None
    for index, route in enumerate(job.plan.steps):
        deadline = deadline_for(request, max_request_s)
        if deadline <= time.monotonic():
            last_error = ErrorInfo(code=ErrorCode.DEADLINE_EXCEEDED, message=f"deadline passed before step {index}")
            break
        try:
            outcome = await completer.complete(request, route, deadline=deadline, attempt_key=step_key(index))
        except Exception as exc:
            if not isinstance(exc, StreamgateError):
                log.exception("unexpected failure in cascade step %d of %s", index, request.id)
            last_error = error_from(exc)
            current = current.evolve(attempt_log=current.attempt_log + tuple(attempts_of(exc)))
            steps.append(CascadeStep(model=route.primary.model, outcome=last_error.code.value, cost_usd=0.0))
            continue
        current = apply_outcome(current.evolve(route=route), outcome)
        verdict, parsed = judge_answer(current.output or "", request.response_format, job.plan.check)
        cost = step_cost(request, route, outcome, settings)
        steps.append(CascadeStep(model=outcome.link.model, outcome=verdict, cost_usd=cost))
        if verdict == OK:
            return current.evolve(parsed=parsed, cascade=tuple(steps))
        answered = (current, verdict)
    current = current.evolve(cascade=tuple(steps))
    if answered is None:
        error = last_error or ErrorInfo(code=ErrorCode.ALL_PROVIDERS_FAILED, message="no cascade step answered")
        return current.fail(error)
    if answered[1] == "output_invalid":
        return current.fail(
            ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message="no cascade step produced output valid for the schema")
        )
    # Nothing passed the check: the last answer is the best there is (its step outcome says it failed).
    return current
