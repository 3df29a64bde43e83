"""Prepare: render the request's registry prompt, then decide its route, before screening prices it.

Rendering comes first because the prompt's tokens decide the reservation and whether it fits a context window.
:func:`prepare` is deterministic (the A/B split hashes the request id), so a request resumed after a crash is
prepared to the same rendered text and route again.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.job import Job, RoutePlan
from agents.route import choose_route
from gateway.prompts.registry import PromptError, PromptRegistry
from gateway.prompts.render import RenderedPrompt, render
from gateway.settings import Settings
from schemas.request import ChatMessage, LLMRequest
from schemas.result import ErrorInfo


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request ready to price and serve: its rendered form, its route plan and the prompt version used."""

    request: LLMRequest
    plan: RoutePlan
    prompt_name: str | None = None
    prompt_version: str | None = None


def render_request(request: LLMRequest, prompts: PromptRegistry) -> tuple[LLMRequest, RenderedPrompt | None]:
    """``request`` with its ``prompt`` rendered in (system prompt, then the first user turn before its messages).

    The returned request has no ``prompt`` left, so rendering twice changes nothing. Raises
    :class:`PromptError` (``invalid_request``) for an unknown prompt or version or a missing variable.
    """
    ref = request.prompt
    if ref is None:
        return request, None
    rendered = render(prompts.select(ref.name, ref.version, request.id), ref.variables)
    system = "\n\n".join(part for part in (rendered.system, request.system) if part) or None
    messages = [ChatMessage(role="user", content=rendered.user), *request.messages]
    return request.model_copy(update={"prompt": None, "system": system, "messages": messages}), rendered


def prepare(request: LLMRequest, settings: Settings, prompts: PromptRegistry) -> Prepared | ErrorInfo:
    """Render and route ``request``, or the ``rejected`` error that refuses it."""
    try:
        rendered_request, rendered = render_request(request, prompts)
    except PromptError as exc:
        return ErrorInfo(code=exc.code, message=exc.message)
    plan = choose_route(rendered_request, settings)
    if isinstance(plan, ErrorInfo):
        return plan
    return Prepared(
        request=rendered_request,
        plan=plan,
        prompt_name=rendered.name if rendered else None,
        prompt_version=rendered.version if rendered else None,
    )


def carry(job: Job, prepared: Prepared) -> Job:
    """``job`` with its rendered request, route plan (the first step current) and prompt version."""
    return job.evolve(
        request=prepared.request,
        plan=prepared.plan,
        route=prepared.plan.first,
        prompt_name=prepared.prompt_name,
        prompt_version=prepared.prompt_version,
    )
