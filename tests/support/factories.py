"""Small builders for unit tests: a valid request, a job and a settlement, with only the fields a test sets."""

from __future__ import annotations

import uuid
from typing import Any

from agents.job import Job, RoutePlan
from agents.route import choose_route
from gateway.settings import Settings
from schemas.internal import Settlement
from schemas.request import LLMRequest


def make_request(text: str = "What is the capital of France?", **fields: Any) -> LLMRequest:
    """A valid request with a fresh id; ``fields`` override any field."""
    doc: dict[str, Any] = {
        "id": f"req-{uuid.uuid4().hex[:16]}",
        "tenant": "acme",
        "user": "alice",
        "messages": [{"role": "user", "content": text}],
    }
    doc.update(fields)
    return LLMRequest.model_validate(doc)


def make_job(request: LLMRequest | None = None, **fields: Any) -> Job:
    """A job for ``request`` (a fresh one by default) received at t=1_000 ms, with ``fields`` applied."""
    job = Job(request=request or make_request(), received_ms=1_000, reservation=None)
    return job.evolve(**fields) if fields else job


def make_settlement(request: LLMRequest | None = None, **fields: Any) -> Settlement:
    """A settlement of ``request``: ``ok`` with a short output from gpt-4o-mini unless ``fields`` say otherwise."""
    values: dict[str, Any] = {
        "request": request or make_request(),
        "received_ms": 1_000,
        "status": "ok",
        "output": "Paris.",
        "model": "gpt-4o-mini",
        "provider": "openai",
    }
    values.update(fields)
    return Settlement.model_validate(values)


def plan_for(request: LLMRequest, settings: Settings) -> RoutePlan:
    """The route plan screening decides for ``request`` (which must be routable)."""
    plan = choose_route(request, settings)
    assert isinstance(plan, RoutePlan), plan
    return plan
