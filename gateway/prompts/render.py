"""Rendering a registry prompt into a request's system prompt and first user turn.

:class:`string.Template` is the engine on purpose: ``$name`` substitution and nothing else, so a variable's value
is inserted as text (never evaluated, never re-expanded) and a template cannot reach attributes, call functions or
loop. Jinja2's sandbox would allow more in templates, but prompts only need substitution, and a smaller engine is
a smaller attack surface with no new dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.prompts.registry import PromptError, PromptTemplate


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """A rendered prompt: the texts and which template version produced them."""

    name: str
    version: str
    system: str | None
    user: str


def render(prompt: PromptTemplate, variables: dict[str, str]) -> RenderedPrompt:
    """Substitute ``variables``; a missing one is :class:`PromptError` (``invalid_request``)."""
    missing = sorted(prompt.variables - set(variables))
    if missing:
        raise PromptError(f"prompt {prompt.name!r} version {prompt.version} needs variables {missing}")
    system = prompt.system.substitute(variables) if prompt.system is not None else None
    return RenderedPrompt(prompt.name, prompt.version, system, prompt.template.substitute(variables))
