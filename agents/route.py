"""Route: the models a request goes to (explicit, task tier or cascade), their fallback chains, fitted to windows.

Decided once, at screening (the reservation prices it), and carried on the job; a resumed request after a crash
gets the same route again from the same function.

* An explicit ``model`` (name or alias) wins when the tenant may use it, else ``model_not_allowed``.
* Otherwise the task's ``cascade`` (cheap first) or ``tier`` from ``[routing]`` (the tenant's overrides first),
  else ``default_model`` (or, when the tenant may not use it, the first model of its allow-list).
* Fallback links outside the tenant's allow-list are dropped; so is every link (or cascade step) the prompt does
  not fit. The task's ``context`` policy decides what happens when the first model does not fit: ``reject``
  answers ``context_too_long``; ``trim_oldest`` drops the oldest turns until it fits.
"""

from __future__ import annotations

from agents.job import RoutePlan
from gateway.context_window import drop_oldest_turns, fits, turns_to_drop
from gateway.resilience.chain import ChainLink, Route, build_chain
from gateway.routing.config import ContextPolicy
from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo


def choose_route(request: LLMRequest, settings: Settings) -> RoutePlan | ErrorInfo:
    """The route plan of ``request`` (already rendered), or why it cannot be served (a ``rejected`` error)."""
    models = step_models(request, settings)
    if isinstance(models, ErrorInfo):
        return models
    allowed = settings.routing.allowed(request.tenant)
    task = settings.routing.task_for(request.tenant, request.task)
    steps: list[Route] = []
    for model in models:
        chain = [
            link
            for link in build_chain(model, settings.models, settings.resilience)
            if allowed is None or link.model in allowed
        ]
        fitted = fit_route(request, chain, settings, task.context)
        if fitted is not None:
            steps.append(fitted)
    if not steps:
        return ErrorInfo(
            code=ErrorCode.CONTEXT_TOO_LONG,
            message=f"the prompt plus max_tokens={request.max_tokens} does not fit the context window of "
            f"{', '.join(models)} (task {request.task!r}, context policy {task.context!r})",
        )
    return RoutePlan(steps=tuple(steps), task=request.task, check=task.check)


def step_models(request: LLMRequest, settings: Settings) -> list[str] | ErrorInfo:
    """The catalog model of each step (one unless the task cascades), allow-list applied."""
    routing = settings.routing
    allowed = routing.allowed(request.tenant)
    if request.model is not None:
        model = settings.resolve_model_name(request.model)
        if model is None:
            return ErrorInfo(code=ErrorCode.MODEL_NOT_FOUND, message=f"unknown model or alias {request.model!r}")
        if allowed is not None and model not in allowed:
            return _not_allowed(request, [model])
        return [model]
    tiers = routing.tiers_for(request.tenant)
    task = routing.task_for(request.tenant, request.task)
    if task.cascade or task.tier is not None:
        wanted = [_resolve(name, tiers, settings) for name in (task.cascade or (task.tier or "",))]
        chosen = [m for m in wanted if allowed is None or m in allowed]
        return chosen or _not_allowed(request, wanted)
    default = _resolve(settings.default_model, tiers, settings)
    if allowed is None or default in allowed:
        return [default]
    usable = [m for m in settings.routing.tenants[request.tenant].allowed_models or () if m in settings.models]
    return usable[:1] or _not_allowed(request, [default])


def fit_route(request: LLMRequest, chain: list[ChainLink], settings: Settings, policy: ContextPolicy) -> Route | None:
    """``chain`` fitted to the prompt: trimmed for its first link under ``trim_oldest``, and without the links
    the (trimmed) prompt still does not fit; ``None`` when the first link cannot take it."""
    if not chain:
        return None
    primary = settings.models[chain[0].model]
    drop = turns_to_drop(primary, request.messages, request.system, request.max_tokens)
    if drop is None or (drop > 0 and policy == "reject"):
        return None
    messages = drop_oldest_turns(request.messages, drop)
    # The first link fits by construction (turns_to_drop counted exactly what fits would): only fallbacks are checked.
    kept = [chain[0]]
    kept += [
        link for link in chain[1:] if fits(settings.models[link.model], messages, request.system, request.max_tokens)
    ]
    return Route(chain=tuple(kept), drop_turns=drop)


def _resolve(name: str, tiers: dict[str, str], settings: Settings) -> str:
    target = tiers.get(name, name)
    resolved = settings.resolve_model_name(target)
    assert resolved is not None, f"routing names unknown model {target!r}"  # Settings checked it at start-up
    return resolved


def _not_allowed(request: LLMRequest, models: list[str]) -> ErrorInfo:
    return ErrorInfo(
        code=ErrorCode.MODEL_NOT_ALLOWED,
        message=f"tenant {request.tenant!r} may not use {', '.join(models)}",
    )
