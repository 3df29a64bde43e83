"""Shadow serving for replay: one recorded request re-run in-process against a variant, outside every ledger.

A shadow request goes through the same decisions as live traffic (prompt rendering, routing, guards, the
cascade, validation, accounting) but never through screening's tables: nothing is reserved or charged to a
tenant, and its result and usage event go only to the shadow topics. There is no request field that asks for
this: a client cannot mark its own traffic as shadow, because the only way in is the operator's ``replay``
command, and shadow calls use their own idempotency keys (a ``shadow.`` id in a separate completion store).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agents.account import build_outputs, charge_of
from agents.cascade import complete_routed
from agents.job import Job
from agents.prepare import carry, prepare
from agents.screen import run_guards
from agents.validate import validate
from gateway.completion import Completer
from gateway.prompts.registry import PromptRegistry
from gateway.settings import Settings
from guards.base import Guard
from schemas.request import LLMRequest
from schemas.result import ErrorInfo, LLMResult
from schemas.usage import UsageEvent

_MAX_ID = 128


@dataclass(frozen=True, slots=True)
class Variant:
    """What a replay changes on each request; ``None`` keeps the recorded value."""

    prompt_version: str | None = None
    model: str | None = None
    task: str | None = None


def shadow_id(run: str, request_id: str) -> str:
    """The id of a request's shadow copy in replay run ``run`` (valid as a request id, at most 128 chars)."""
    candidate = f"shadow.{run}.{request_id}"
    if len(candidate) <= _MAX_ID:
        return candidate
    return f"shadow.{run}.{hashlib.sha256(request_id.encode()).hexdigest()[:40]}"


def shadow_request(request: LLMRequest, run: str, variant: Variant, reply_to: str) -> LLMRequest:
    """The shadow copy of a recorded request: new id, the variant applied, the shadow topic as ``reply_to``.

    Its deadline is dropped (the recorded one has long passed) and the response cache is bypassed (the point is
    a fresh answer).
    """
    update: dict[str, Any] = {
        "id": shadow_id(run, request.id),
        "reply_to": reply_to,
        "deadline_ms": None,
        "cache": request.cache.model_copy(update={"mode": "bypass"}),
    }
    if variant.model is not None:
        update["model"] = variant.model
    if variant.task is not None:
        update["task"] = variant.task
    if variant.prompt_version is not None and request.prompt is not None:
        update["prompt"] = request.prompt.model_copy(update={"version": variant.prompt_version})
    return request.model_copy(update=update)


async def serve_shadow(
    request: LLMRequest,
    settings: Settings,
    prompts: PromptRegistry,
    guards: Sequence[Guard],
    completer: Completer,
    *,
    max_request_s: float,
) -> tuple[LLMResult, UsageEvent]:
    """Serve one shadow request end to end in-process; no table, budget or client topic is touched."""
    received_ms = int(time.time() * 1000)
    job = Job(request=request, received_ms=received_ms, reservation=None)
    prepared = prepare(request, settings, prompts)
    if isinstance(prepared, ErrorInfo):
        job = job.fail(prepared, status="rejected")
    else:
        job = carry(job, prepared)
        blocked = run_guards(job.request, len(request.model_dump_json()), guards)
        if blocked is not None:
            job = job.fail(blocked, status="rejected")
    job = await complete_routed(job, completer, settings, max_request_s=max_request_s)
    job = await validate(job, completer, max_request_s=max_request_s)
    settlement = job.to_settlement()
    return build_outputs(settlement, charge_of(settlement, settings), int(time.time() * 1000))
