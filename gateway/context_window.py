"""Context windows: does a prompt fit a model with room for its output, and which oldest turns to drop if not.

A prompt fits a model when ``prompt tokens + min(max_tokens, max_output_tokens) <= context_window``, counted with
the model's own encoding (:func:`gateway.model_tokens.counter_for`). Trimming keeps every system message and the
last user turn (and anything after it), and drops the oldest other turns first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from gateway.catalog import ModelSpec
from gateway.model_tokens import REPLY_PRIMER_TOKENS, counter_for


class Turn(Protocol):
    """A chat message: :class:`schemas.request.ChatMessage` or anything with ``role`` and ``content``."""

    @property
    def role(self) -> str:
        """``user``, ``assistant`` or ``system``."""
        ...

    @property
    def content(self) -> str:
        """The message text."""
        ...


T = TypeVar("T", bound=Turn)


def droppable(messages: Sequence[Turn]) -> list[int]:
    """Indices of the turns trimming may drop, oldest first: non-system turns before the last user turn."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=len(messages))
    return [i for i in range(last_user) if messages[i].role != "system"]


def drop_oldest_turns(messages: Sequence[T], count: int) -> list[T]:
    """``messages`` without their ``count`` oldest droppable turns."""
    if count <= 0:
        return list(messages)
    dropped = set(droppable(messages)[:count])
    return [m for i, m in enumerate(messages) if i not in dropped]


def output_room(spec: ModelSpec, max_tokens: int) -> int:
    """The tokens kept free for the answer: ``max_tokens``, capped at the model's output limit."""
    return min(max_tokens, spec.max_output_tokens)


def prompt_tokens(spec: ModelSpec, messages: Sequence[Turn], system: str | None) -> int:
    """Prompt tokens of ``messages`` and ``system`` by ``spec``'s encoding."""
    counter = counter_for(spec)
    return counter.chat([{"content": m.content} for m in messages], system)


def fits(spec: ModelSpec, messages: Sequence[Turn], system: str | None, max_tokens: int) -> bool:
    """Whether the prompt plus the output room fits ``spec``'s context window."""
    return prompt_tokens(spec, messages, system) + output_room(spec, max_tokens) <= spec.context_window


def turns_to_drop(spec: ModelSpec, messages: Sequence[Turn], system: str | None, max_tokens: int) -> int | None:
    """The fewest oldest turns to drop so the prompt fits ``spec`` (0 when it fits), ``None`` when it cannot."""
    counter = counter_for(spec)
    costs = [counter.message(m.content) for m in messages]
    total = REPLY_PRIMER_TOKENS + (counter.message(system) if system else 0) + sum(costs)
    budget = spec.context_window - output_room(spec, max_tokens)
    if total <= budget:
        return 0
    for dropped, index in enumerate(droppable(messages), start=1):
        total -= costs[index]
        if total <= budget:
            return dropped
    return None
