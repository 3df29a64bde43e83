"""The model catalog: which models exist, who serves them, what they cost and how large their context is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProviderName = Literal["openai", "anthropic"]


class ModelSpec(BaseModel):
    """One model the gateway can call. Prices are USD per million tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: ProviderName
    upstream: str = Field(description="The model name sent to the provider.")
    input_usd_per_mtok: float = Field(ge=0)
    output_usd_per_mtok: float = Field(ge=0)
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(default=8192, gt=0)
    tier: Literal["cheap", "standard", "premium"] = "standard"


DEFAULT_MODELS: dict[str, ModelSpec] = {
    "gpt-4o-mini": ModelSpec(
        provider="openai",
        upstream="gpt-4o-mini",
        input_usd_per_mtok=0.15,
        output_usd_per_mtok=0.60,
        context_window=128_000,
        max_output_tokens=16_384,
        tier="cheap",
    ),
    "gpt-4o": ModelSpec(
        provider="openai",
        upstream="gpt-4o",
        input_usd_per_mtok=2.50,
        output_usd_per_mtok=10.00,
        context_window=128_000,
        max_output_tokens=16_384,
        tier="premium",
    ),
    "claude-3-5-haiku": ModelSpec(
        provider="anthropic",
        upstream="claude-3-5-haiku-latest",
        input_usd_per_mtok=0.80,
        output_usd_per_mtok=4.00,
        context_window=200_000,
        max_output_tokens=8_192,
        tier="cheap",
    ),
    "claude-sonnet-4": ModelSpec(
        provider="anthropic",
        upstream="claude-sonnet-4-20250514",
        input_usd_per_mtok=3.00,
        output_usd_per_mtok=15.00,
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
