"""Which parts of a request a content guard reads."""

from __future__ import annotations

from schemas.request import LLMRequest


def _variables(request: LLMRequest) -> list[str]:
    return list(request.prompt.variables.values()) if request.prompt is not None else []


def user_texts(request: LLMRequest) -> list[str]:
    """The client-written text: every ``user`` message and every prompt-template variable (the system prompt and
    the templates are the tenant's own)."""
    return [m.content for m in request.messages if m.role == "user"] + _variables(request)


def all_texts(request: LLMRequest) -> list[str]:
    """Every text that would reach a provider: the system prompt, every message and every template variable."""
    texts = [m.content for m in request.messages] + _variables(request)
    return [request.system, *texts] if request.system else texts


def last_text(request: LLMRequest) -> str:
    """The text guardrails is handed to validate (the checks read the whole request from the metadata)."""
    return request.messages[-1].content if request.messages else ""
