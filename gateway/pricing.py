"""Cost of tokens from the model catalog's price table."""

from __future__ import annotations

from gateway.catalog import ModelSpec

_PER_TOKEN = 1_000_000


def cost_usd(spec: ModelSpec, input_tokens: int, output_tokens: int) -> float:
    """USD cost of the given token counts on ``spec``, rounded to a micro-dollar-safe 10 decimals."""
    raw = (input_tokens * spec.input_usd_per_mtok + output_tokens * spec.output_usd_per_mtok) / _PER_TOKEN
    return round(raw, 10)
