"""The model catalog: which models exist, who serves them and how large their context is.

Prices are not typed here: they come from the maintained price source (:mod:`gateway.price_source`); a catalog entry
sets a price only to override it (a negotiated rate), see :mod:`gateway.pricing`. Any model the price source knows can
be added with just ``provider`` and ``upstream``: its context window is then taken from the source too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.price_source import listed_context_window

ProviderName = Literal["openai", "anthropic"]


class ModelSpec(BaseModel):
    """One model the gateway can call. Prices (USD per million tokens) are overrides of the list price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: ProviderName
    upstream: str = Field(description="The model name sent to the provider.")
    input_usd_per_mtok: float | None = Field(default=None, ge=0, description="Override of the input list price.")
    output_usd_per_mtok: float | None = Field(default=None, ge=0, description="Override of the output list price.")
    cached_input_usd_per_mtok: float | None = Field(
        default=None, ge=0, description="Override of the cached-input (cache read) list price."
    )
    cache_write_usd_per_mtok: float | None = Field(
        default=None, ge=0, description="Override of the cache-write list price."
    )
    context_window: int = Field(gt=0, description="Defaults to the price source's figure when it knows the model.")
    max_output_tokens: int = Field(default=8192, gt=0)
    tier: Literal["cheap", "standard", "premium"] = "standard"

    @model_validator(mode="before")
    @classmethod
    def _default_context_window(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("context_window") is None:
            provider, upstream = data.get("provider"), data.get("upstream")
            if isinstance(provider, str) and isinstance(upstream, str):
                window = listed_context_window(provider, upstream)
                if window is not None:
                    return {**data, "context_window": window}
        return data


DEFAULT_MODELS: dict[str, ModelSpec] = {
    "gpt-4o-mini": ModelSpec(
        provider="openai", upstream="gpt-4o-mini", context_window=128_000, max_output_tokens=16_384, tier="cheap"
    ),
    "gpt-4o": ModelSpec(
        provider="openai", upstream="gpt-4o", context_window=128_000, max_output_tokens=16_384, tier="premium"
    ),
    "o4-mini": ModelSpec(
        provider="openai", upstream="o4-mini", context_window=200_000, max_output_tokens=100_000, tier="standard"
    ),
    "claude-3-5-haiku": ModelSpec(
        provider="anthropic",
        upstream="claude-3-5-haiku-latest",
        context_window=200_000,
        max_output_tokens=8_192,
        tier="cheap",
    ),
    "claude-sonnet-4": ModelSpec(
        provider="anthropic",
        upstream="claude-sonnet-4-20250514",
        context_window=200_000,
        max_output_tokens=8_192,
        tier="standard",
    ),
}

DEFAULT_ALIASES: dict[str, str] = {
    "fast": "gpt-4o-mini",
    "smart": "claude-sonnet-4",
    "best": "gpt-4o",
}

# Primary -> fallbacks: a model of similar quality on the other provider first, then a cheaper one.
DEFAULT_FALLBACKS: dict[str, tuple[str, ...]] = {
    "gpt-4o": ("claude-sonnet-4", "gpt-4o-mini"),
    "claude-sonnet-4": ("gpt-4o", "claude-3-5-haiku"),
    "gpt-4o-mini": ("claude-3-5-haiku",),
    "claude-3-5-haiku": ("gpt-4o-mini",),
}
