"""Screen: the request's deadline and the admission guards (limits and budgets are applied by the ledger).

Content guards (injection, PII, deny rules) ran before admission (:mod:`agents.guarding`); their block, if any,
arrives here as ``prior``.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.guarding import block_error
from guards.base import Guard, GuardInput
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo


def check_deadline(request: LLMRequest, now_ms: int) -> ErrorInfo | None:
    """A request whose deadline has passed is answered without calling any provider."""
    if request.deadline_ms is not None and now_ms >= request.deadline_ms:
        return ErrorInfo(
            code=ErrorCode.DEADLINE_EXCEEDED,
            message=f"deadline {request.deadline_ms} passed {now_ms - request.deadline_ms} ms before screening",
        )
    return None


def run_guards(request: LLMRequest, raw_size: int, guards: Sequence[Guard]) -> ErrorInfo | None:
    """The first guard's block as a result error, or ``None`` when every guard lets the request through."""
    subject = GuardInput(request=request, raw_size=raw_size)
    for guard in guards:
        block = guard.check(subject).block
        if block is not None:
            return block_error(guard.name, block)
    return None


def precheck(
    request: LLMRequest, raw_size: int, guards: Sequence[Guard], now_ms: int, prior: ErrorInfo | None = None
) -> ErrorInfo | None:
    """Everything screening decides before limits: the deadline first, then a content guard's block, then the
    admission guards."""
    return check_deadline(request, now_ms) or prior or run_guards(request, raw_size, guards)
