"""The one interface every input guard implements, and the verdict it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.codes import ErrorCode
from schemas.request import LLMRequest


@dataclass(frozen=True, slots=True)
class GuardInput:
    """What a guard looks at: the validated request and the size of its event on the wire."""

    request: LLMRequest
    raw_size: int


@dataclass(frozen=True, slots=True)
class Block:
    """A guard's refusal: a stable code, a message for the client, and the rule that tripped."""

    code: ErrorCode
    message: str
    rule: str


class Guard(Protocol):
    """An input guard: pure, synchronous, cheap (it runs in the single-actor screen stage)."""

    @property
    def name(self) -> str:
        """The guard's name, used in the ``limit`` field of a refusal (``size.max_prompt_chars``)."""
        ...

    def check(self, subject: GuardInput) -> Block | None:
        """``None`` to let the request through, else the :class:`Block`."""
        ...
