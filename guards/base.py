"""The one interface every guard implements, what it looks at, and the verdict it returns.

A guard belongs to one stage:

- ``admission``: cheap checks of shape and size, run by the single table-writing screen actor;
- ``content``: reads the prompt (deny rules, injection, PII), run at intake before admission, never in the screen
  actor; it may rewrite the request (PII placeholders);
- ``output``: reads the model's answer before it is cached or delivered; it may rewrite the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from gateway.guard_policy import GuardPolicy
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import GuardAction, GuardVerdict

GuardStage = Literal["admission", "content", "output"]


@dataclass(frozen=True, slots=True)
class GuardInput:
    """What a guard looks at: the request, its size on the wire, the tenant's policy and (output stage) the answer."""

    request: LLMRequest
    raw_size: int
    policy: GuardPolicy = field(default_factory=GuardPolicy)
    output: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """A guard's refusal: a stable code, a message for the client, and the rule that tripped."""

    code: ErrorCode
    message: str
    rule: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A guard's decision. ``request``/``output`` are set when the guard rewrote them; ``restore`` maps each
    placeholder it put in the request to the client's value (used only under ``pii_restore``)."""

    action: GuardAction = "pass"
    score: float | None = None
    entities: dict[str, int] | None = None
    block: Block | None = None
    request: LLMRequest | None = None
    output: str | None = None
    restore: tuple[tuple[str, str], ...] = ()

    @classmethod
    def blocking(cls, block: Block, *, score: float | None = None, entities: dict[str, int] | None = None) -> Verdict:
        """A block."""
        return cls(action="block", block=block, score=score, entities=entities)

    def public(self, guard: str) -> GuardVerdict:
        """The verdict as the result carries it (counts, never matched text)."""
        return GuardVerdict(guard=guard, action=self.action, score=self.score, entities=self.entities or None)


PASS = Verdict()


class Guard(Protocol):
    """A guard: pure and synchronous. ``stage`` says where in the pipeline it runs."""

    @property
    def name(self) -> str:
        """The guard's name, used in verdicts and in the ``limit`` of a refusal (``size.max_prompt_chars``)."""
        ...

    @property
    def stage(self) -> GuardStage:
        """``admission``, ``content`` or ``output``."""
        ...

    def check(self, subject: GuardInput) -> Verdict:
        """The guard's verdict on ``subject``."""
        ...


class OutputStream(Protocol):
    """An output guard's view of one streamed answer: it releases text only once it is safe to deliver."""

    @property
    def blocked(self) -> bool:
        """True once the guard refused the answer: nothing more is released."""
        ...

    def feed(self, delta: str) -> str:
        """Take the next piece of the answer; return the (possibly rewritten) text that may be delivered now."""
        ...

    def close(self) -> str:
        """The answer ended: the rest of the text that may be delivered."""
        ...

    def verdict(self) -> Verdict:
        """What the guard decided over the text seen so far (a block once :attr:`blocked`)."""
        ...


@runtime_checkable
class StreamingGuard(Guard, Protocol):
    """An output guard that can also check an answer while it streams (:mod:`agents.stream_output`)."""

    def open_stream(self, policy: GuardPolicy) -> OutputStream:
        """A fresh stream check for one answer (or one attempt at it) under ``policy``."""
        ...
