"""Cost of tokens: list prices from :mod:`gateway.price_source`, overlaid with negotiated prices from the catalog.

A catalog entry (:class:`~gateway.catalog.ModelSpec`) may set any of ``input_usd_per_mtok``,
``output_usd_per_mtok``, ``cached_input_usd_per_mtok`` and ``cache_write_usd_per_mtok``; each set field replaces the
list price of that token kind, the rest come from the price source (``price_source`` is then ``"config"``). A model
neither source prices has no price: its cost is unknown (``None``), never 0.

The batch lane is priced by :func:`price_of` with ``lane="batch"``: the source's batch rates, and a negotiated
override at the published batch discount (:func:`gateway.price_source.listed_batch_price`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.catalog import ModelSpec
from gateway.price_source import (
    BATCH_RULE_SUFFIX,
    CONFIG_SOURCE,
    ListPrice,
    Rate,
    discounted,
    listed_batch_price,
    listed_price,
)
from gateway.token_counts import TokenCounts
from schemas.result import Lane

_PER_MTOK = Decimal(1_000_000)
_QUANTUM = Decimal("1e-10")


class PricingSettings(BaseModel):
    """What budgets do with a model that has no price (``[pricing]`` in the config file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unknown_policy: Literal["reject", "reserve"] = Field(
        default="reserve",
        description="reject: refuse requests routed to an unpriced model when a USD budget applies; "
        "reserve: reserve and charge budgets at unknown_usd_per_mtok.",
    )
    unknown_usd_per_mtok: float = Field(
        default=75.0, ge=0, description="Budget rate for every token of an unpriced model (not a cost)."
    )


def _override(value: float | None) -> Rate | None:
    return None if value is None else Rate(Decimal(str(value)))


def price_of(spec: ModelSpec, lane: Lane = "interactive") -> ListPrice | None:
    """The price of a catalog model in ``lane``: config overrides over the list price; ``None`` when unknown.

    In the batch lane the source's batch price applies; a negotiated override gets the published batch discount.
    """
    if lane == "batch":
        return _batch_price(spec)
    # Keyed on the fields that decide the price: hashing the whole pydantic model costs more than pricing.
    return _price(
        spec.provider,
        spec.upstream,
        spec.input_usd_per_mtok,
        spec.output_usd_per_mtok,
        spec.cached_input_usd_per_mtok,
        spec.cache_write_usd_per_mtok,
    )


def _batch_price(spec: ModelSpec) -> ListPrice | None:
    interactive = price_of(spec)
    if interactive is None or interactive.source != CONFIG_SOURCE:
        return listed_batch_price(spec.provider, spec.upstream)
    return discounted(interactive, source=CONFIG_SOURCE + BATCH_RULE_SUFFIX)


@lru_cache(maxsize=1024)
def _price(
    provider: str,
    upstream: str,
    input_usd: float | None,
    output_usd: float | None,
    cached_input_usd: float | None,
    cache_write_usd: float | None,
) -> ListPrice | None:
    listed = listed_price(provider, upstream)
    overrides = (_override(input_usd), _override(output_usd), _override(cached_input_usd), _override(cache_write_usd))
    if all(o is None for o in overrides):
        return listed
    input_rate = overrides[0] or (listed.input if listed else None)
    output_rate = overrides[1] or (listed.output if listed else None)
    if input_rate is None or output_rate is None:
        return None
    return ListPrice(
        input=input_rate,
        output=output_rate,
        cached_input=overrides[2] or (listed.cached_input if listed else input_rate),
        cache_write=overrides[3] or (listed.cache_write if listed else input_rate),
        source=CONFIG_SOURCE,
    )


def cost_usd(price: ListPrice, counts: TokenCounts) -> float:
    """USD cost of ``counts`` at ``price``: each token kind at its own rate, exact in decimal, rounded to 1e-10.

    Reasoning tokens are part of ``output_tokens`` and billed there (never twice).
    """
    prompt = counts.input_tokens
    micro = (
        counts.uncached_input_tokens * price.input.at(prompt)
        + counts.cached_input_tokens * price.cached_input.at(prompt)
        + counts.cache_write_tokens * price.cache_write.at(prompt)
        + counts.output_tokens * price.output.at(prompt)
    )
    return float((micro / _PER_MTOK).quantize(_QUANTUM))


def flat_usd(tokens: int, usd_per_mtok: float) -> float:
    """``tokens`` at one flat rate (the budget rate of unpriced models), rounded like :func:`cost_usd`."""
    return float((tokens * Decimal(str(usd_per_mtok)) / _PER_MTOK).quantize(_QUANTUM))


def worst_case_usd(
    price: ListPrice | None, input_tokens: int, output_tokens: int, unknown_usd_per_mtok: float
) -> float:
    """The most ``input_tokens`` in and ``output_tokens`` out can cost: every prompt token at the dearest input kind
    (a cache write costs more than plain input), at the tier of ``input_tokens``; unpriced models at
    ``unknown_usd_per_mtok``."""
    if price is None:
        return flat_usd(input_tokens + output_tokens, unknown_usd_per_mtok)
    prompt = input_tokens
    input_rate = max(price.input.at(prompt), price.cache_write.at(prompt), price.cached_input.at(prompt))
    micro = input_tokens * input_rate + output_tokens * price.output.at(prompt)
    return float((micro / _PER_MTOK).quantize(_QUANTUM))


def unpriced_models(models: Mapping[str, ModelSpec]) -> list[str]:
    """Catalog names whose model has no price (their requests cost ``None``; warn about them at start-up)."""
    return sorted(name for name, spec in models.items() if price_of(spec) is None)
