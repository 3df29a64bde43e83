"""Complete: call the routed model (with the completer's retries, fallbacks, breakers and idempotency)."""

from __future__ import annotations

import logging
import time
from typing import Any

from agents.job import Job
from gateway.completion import Completer, CompletionOutcome
from gateway.errors import StreamgateError
from gateway.providers.base import DeltaSink
from gateway.resilience.errors import attempts_of
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo

log = logging.getLogger(__name__)


def deadline_for(request: LLMRequest, max_request_s: float, now_ms: int | None = None) -> float:
    """The monotonic deadline of a request: its ``deadline_ms`` if sooner than the policy's overall budget."""
    now_mono = time.monotonic()
    budget = max_request_s
    if request.deadline_ms is not None:
        wall_now = now_ms if now_ms is not None else int(time.time() * 1000)
        budget = min(budget, (request.deadline_ms - wall_now) / 1000.0)
    return now_mono + budget


def error_from(exc: BaseException) -> ErrorInfo:
    """The result error for an exception raised while completing (unexpected ones become internal_error)."""
    if isinstance(exc, StreamgateError):
        details: list[dict[str, Any]] = list(getattr(exc, "link_errors", []) or [])
        return ErrorInfo(code=exc.code, message=exc.message, details=details)
    return ErrorInfo(code=ErrorCode.INTERNAL_ERROR, message=f"{type(exc).__name__}: {exc}")


def apply_outcome(job: Job, outcome: CompletionOutcome) -> Job:
    """The job with a successful completion filled in; token counts add up over calls (the schema retry)."""
    completion = outcome.completion
    return job.evolve(
        status="ok",
        output=completion.text,
        model=outcome.link.model,
        provider=outcome.link.provider,
        input_tokens=_add(job.input_tokens, completion.input_tokens),
        output_tokens=_add(job.output_tokens, completion.output_tokens),
        cached_input_tokens=_add(job.cached_input_tokens, completion.cached_input_tokens),
        cache_write_tokens=_add(job.cache_write_tokens, completion.cache_write_tokens),
        reasoning_tokens=_add(job.reasoning_tokens, completion.reasoning_tokens),
        attempt_log=job.attempt_log + outcome.attempts,
    )


def _add(total: int | None, more: int | None) -> int | None:
    if total is None:
        return more
    return total + (more or 0)


async def complete(job: Job, completer: Completer, *, max_request_s: float, on_delta: DeltaSink | None = None) -> Job:
    """Run the provider call for an unfinished, routed job; failures become an ``error`` outcome.

    ``on_delta``: stream the call and feed the answer's text there as it arrives (:mod:`agents.stream_output`).
    """
    if job.finished or job.route is None:
        return job
    deadline = deadline_for(job.request, max_request_s)
    if deadline <= time.monotonic():
        return job.fail(ErrorInfo(code=ErrorCode.DEADLINE_EXCEEDED, message="deadline passed before the call"))
    try:
        estimate = job.reservation.tokens if job.reservation is not None and job.reservation.tokens else None
        outcome = await completer.complete(
            job.request, job.route, deadline=deadline, estimated_tokens=estimate, on_delta=on_delta
        )
    except Exception as exc:
        if not isinstance(exc, StreamgateError):
            log.exception("unexpected failure completing %s", job.request.id)
        return job.fail(error_from(exc)).evolve(attempt_log=job.attempt_log + tuple(attempts_of(exc)))
    return apply_outcome(job, outcome)
