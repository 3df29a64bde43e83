"""A scripted :class:`gateway.completion.Completer` for the stage tests: no provider, no network."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.completion import CompletionOutcome
from gateway.providers.base import Completion, DeltaSink
from gateway.resilience.chain import ChainLink, Route
from schemas.request import ChatMessage, LLMRequest
from schemas.result import Attempt

LINK = ChainLink(model="gpt-4o-mini", provider="openai", upstream="gpt-4o-mini")
ROUTE = Route(chain=(LINK,))


def outcome(text: str, *, input_tokens: int | None = 10, output_tokens: int | None = 5) -> CompletionOutcome:
    """A successful answer on :data:`LINK` with one ``ok`` attempt."""
    completion = Completion("openai", "gpt-4o-mini", text, input_tokens, output_tokens, "stop")
    attempt = Attempt(provider="openai", model="gpt-4o-mini", outcome="ok", latency_ms=12.0, status=200)
    return CompletionOutcome(completion, LINK, (attempt,))


@dataclass(frozen=True, slots=True)
class Call:
    """One recorded ``complete`` call."""

    request: LLMRequest
    route: Route
    deadline: float
    extra_messages: tuple[ChatMessage, ...]
    attempt_key: str
    estimated_tokens: int | None = None


@dataclass
class ScriptedCompleter:
    """Answers each call with the next step of ``script`` (an outcome, or an exception to raise)."""

    script: list[CompletionOutcome | BaseException]
    calls: list[Call] = field(default_factory=list)
    piece_chars: int = 7

    async def complete(
        self,
        request: LLMRequest,
        route: Route,
        *,
        deadline: float,
        extra_messages: tuple[ChatMessage, ...] = (),
        attempt_key: str = "",
        estimated_tokens: int | None = None,
        on_delta: DeltaSink | None = None,
    ) -> CompletionOutcome:
        self.calls.append(Call(request, route, deadline, extra_messages, attempt_key, estimated_tokens))
        step = self.script[len(self.calls) - 1]
        if isinstance(step, BaseException):
            raise step
        if on_delta is not None:  # a stream: the answer in pieces of a few characters
            await on_delta.started()
            text = step.completion.text
            for at in range(0, len(text), self.piece_chars):
                await on_delta.delta(text[at : at + self.piece_chars])
        return step
