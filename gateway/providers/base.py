"""The one interface every provider adapter implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class DeltaSink(Protocol):
    """Receives the text of a streamed attempt as it arrives (``CompletionCall.on_delta``).

    ``started`` is called once per attempt, when the provider accepted it and its stream opened: text fed after
    it belongs to that attempt (a retry or fallback starts again). A sink never raises: an error in it would be
    taken for the provider's and retried.
    """

    async def started(self) -> None:
        """An attempt's stream opened; the deltas that follow replace any earlier attempt's."""
        ...

    async def delta(self, text: str) -> None:
        """The next piece of the attempt's answer text."""
        ...


@dataclass(frozen=True, slots=True)
class CompletionCall:
    """One provider attempt, in provider-neutral terms.

    ``messages`` are ``{"role", "content"}`` dicts with roles ``user``/``assistant`` (a ``system`` role in
    ``messages`` is folded into ``system`` by the adapter where the provider needs that).
    """

    model: str
    messages: list[dict[str, str]]
    max_tokens: int
    system: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None  # OpenAI only: the Messages API has no seed
    json_schema: dict[str, Any] | None = None
    timeout_s: float = 60.0
    idempotency_key: str | None = None
    request_id: str | None = None  # the gateway request this call serves (tracing); defaults to idempotency_key
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Set: the adapter streams the answer (SSE) and feeds its text here as it arrives; the Completion is the same.
    on_delta: DeltaSink | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Completion:
    """What a provider answered. Token counts are ``None`` when the provider did not report them.

    The counts follow :mod:`gateway.token_counts`: ``input_tokens`` includes the cached and cache-write tokens,
    ``output_tokens`` includes the reasoning tokens.
    """

    provider: str
    model: str
    text: str
    input_tokens: int | None
    output_tokens: int | None
    finish_reason: str | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None


@runtime_checkable
class Provider(Protocol):
    """A provider adapter: one async call, errors mapped onto :mod:`gateway.errors`.

    ``complete`` raises only :class:`gateway.errors.ProviderError` subclasses. The SDK's own retries are off:
    the gateway's resilience policy governs retries. With ``call.on_delta`` set it streams the answer and feeds
    the text to that sink as it arrives; the returned :class:`Completion` (text, usage) is the same either way.
    """

    name: str

    async def complete(self, call: CompletionCall) -> Completion:
        """Make one attempt."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
