"""Worst-case estimate of a request before it is sent, for :func:`gateway.limits.decide.admit`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from gateway.catalog import ModelSpec
from gateway.limits.decide import Estimate
from gateway.pricing import PricingSettings, price_of, worst_case_usd
from gateway.tokens import count_chat


class HasContent(Protocol):
    """A chat message object such as :class:`schemas.request.ChatMessage`."""

    @property
    def content(self) -> str:
        """The message text."""
        ...


def estimate_request(
    messages: Iterable[Mapping[str, str] | HasContent],
    system: str | None,
    max_tokens: int,
    price_specs: Sequence[ModelSpec],
    *,
    input_margin: float = 1.0,
    unknown_usd_per_mtok: float = PricingSettings().unknown_usd_per_mtok,
) -> Estimate:
    """Worst case of a chat request that may be served by any model in ``price_specs``.

    ``price_specs`` are the models the request may end up on (the primary and its fallbacks); the cost is
    priced on the most expensive of them for ``input_tokens`` in (each at the dearest input kind, i.e. as if the
    whole prompt were a cache write) and the full ``max_tokens`` out; a model without a known price is priced at
    ``unknown_usd_per_mtok`` for every token — the output
    allowance is not capped at a model's own ``max_output_tokens``, to stay safe if the catalog understates
    it.

    Input tokens are counted with cl100k_base (:func:`gateway.tokens.count_chat`), which is exact for OpenAI
    models but only an estimate for Claude, whose tokenizer typically yields more tokens for the same text.
    The estimate is a true worst case only if the count is not below the provider's: pass ``input_margin``
    (e.g. ``1.2``) to scale the counted input up when Claude models are among ``price_specs``.
    """
    if max_tokens < 0:
        raise ValueError(f"max_tokens must not be negative, got {max_tokens}")
    if not price_specs:
        raise ValueError("price_specs must name at least one model")
    if input_margin < 1.0:
        raise ValueError(f"input_margin must be >= 1, got {input_margin}")
    as_mappings = [m if isinstance(m, Mapping) else {"content": m.content} for m in messages]
    input_tokens = math.ceil(count_chat(as_mappings, system) * input_margin)
    worst = max(worst_case_usd(price_of(spec), input_tokens, max_tokens, unknown_usd_per_mtok) for spec in price_specs)
    return Estimate(input_tokens=input_tokens, max_output_tokens=max_tokens, worst_case_usd=worst)
