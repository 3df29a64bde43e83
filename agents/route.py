"""Route: pick the model (explicit name or alias, else the configured default) and its fallback chain."""

from __future__ import annotations

from gateway.resilience.chain import Route, build_chain
from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo


def choose_route(request: LLMRequest, settings: Settings) -> Route | ErrorInfo:
    """The route for ``request``, or an ``ErrorInfo`` (``model_not_found``) when the model is unknown."""
    wanted = request.model or settings.default_model
    primary = settings.resolve_model_name(wanted)
    if primary is None:
        return ErrorInfo(code=ErrorCode.MODEL_NOT_FOUND, message=f"unknown model or alias {wanted!r}")
    return Route(chain=tuple(build_chain(primary, settings.models, settings.resilience)))
