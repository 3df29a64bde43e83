"""Token counts of one answer, split by how each kind is billed.

Normalised meaning (whatever the provider's own convention):

* ``input_tokens`` — every prompt token, **including** ``cached_input_tokens`` and ``cache_write_tokens``
  (OpenAI's ``prompt_tokens`` already includes its cached tokens; Anthropic's ``input_tokens`` excludes cache reads
  and writes, so the adapter adds them).
* ``cached_input_tokens`` — prompt tokens read from the provider's prompt cache (OpenAI
  ``prompt_tokens_details.cached_tokens``, Anthropic ``cache_read_input_tokens``), billed at the cached-input rate.
* ``cache_write_tokens`` — prompt tokens written to the provider's prompt cache (Anthropic
  ``cache_creation_input_tokens``; OpenAI has none), billed at the cache-write rate.
* ``output_tokens`` — every generated token, **including** ``reasoning_tokens``.
* ``reasoning_tokens`` — hidden reasoning tokens (OpenAI ``completion_tokens_details.reasoning_tokens``), billed as
  output; Anthropic bills thinking as output without breaking it out, so it is 0 there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """The five token counts of one answer (see the module docstring for what each includes)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def of(cls, source: Any) -> TokenCounts:
        """The counts of any object with the five count attributes (a settlement, a usage event); ``None`` is 0."""
        return cls(**{kind: getattr(source, kind) or 0 for kind in KINDS})

    def as_fields(self) -> dict[str, int]:
        """The five counts by field name, for the contract models that carry them."""
        return {kind: getattr(self, kind) for kind in KINDS}

    @property
    def uncached_input_tokens(self) -> int:
        """Prompt tokens billed at the plain input rate."""
        return max(0, self.input_tokens - self.cached_input_tokens - self.cache_write_tokens)

    @property
    def total(self) -> int:
        """Input plus output tokens (what token limits count)."""
        return self.input_tokens + self.output_tokens
