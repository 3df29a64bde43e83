"""The maintained list-price source: the price snapshot bundled in the pinned ``genai-prices`` package.

Only the bundled snapshot is read: genai-prices fetches newer prices only when its ``UpdatePrices`` is started, which
streamgate never does, so pricing needs no network at run time. Upgrading the pin (pyproject.toml) is how prices
are updated; ``SOURCE`` names the version in every usage event.

**Batch prices** (the batch lane): genai-prices lists a ``processing = "batch"`` price variant for the models whose
provider publishes one in its batch price table (e.g. gpt-4o-mini, claude-haiku-4-5) and none for retired models
(claude-3-5-haiku, claude-sonnet-4). :func:`listed_batch_price` takes the variant when the source has it; otherwise it
applies the discount both providers publish for their batch APIs, 50 % of every token rate
(:data:`PUBLISHED_BATCH_DISCOUNT`), and says so in the source name (``genai-prices@0.2.3+batch-50%``). This is the
one place the rule lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from importlib.metadata import version

from genai_prices import data_snapshot, types

SOURCE = f"genai-prices@{version('genai-prices')}"
CONFIG_SOURCE = "config"
BATCH_CONTEXT = {"processing": "batch"}
PUBLISHED_BATCH_DISCOUNT = Decimal("0.5")
"""OpenAI's Batch API and Anthropic's Message Batches both bill 50 % of the standard rates (their pricing pages)."""
BATCH_RULE_SUFFIX = "+batch-50%"


@dataclass(frozen=True, slots=True)
class Rate:
    """USD per million tokens; ``tiers`` are ``(start, price)``: past ``start`` prompt tokens ``price`` applies."""

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def at(self, prompt_tokens: int) -> Decimal:
        """The rate for a request of ``prompt_tokens`` (the "cliff" model genai-prices and providers use)."""
        for start, price in reversed(self.tiers):
            if prompt_tokens > start:
                return price
        return self.base


@dataclass(frozen=True, slots=True)
class ListPrice:
    """One model's rates per token kind; ``source`` is where they came from (e.g. ``genai-prices@0.2.3``)."""

    input: Rate
    output: Rate
    cached_input: Rate
    cache_write: Rate
    source: str


def _rate(value: Decimal | types.TieredPrices | None) -> Rate | None:
    if value is None:
        return None
    if isinstance(value, types.TieredPrices):
        return Rate(value.base, tuple((tier.start, tier.price) for tier in value.tiers))
    return Rate(value)


def _model(provider: str, upstream: str) -> types.ModelInfo | None:
    try:
        _, model = data_snapshot.get_snapshot().find_provider_model(upstream, None, provider, None)
    except LookupError:
        return None
    return model


def _scaled(rate: Rate, factor: Decimal) -> Rate:
    return Rate(rate.base * factor, tuple((start, price * factor) for start, price in rate.tiers))


def discounted(price: ListPrice, *, source: str) -> ListPrice:
    """``price`` with :data:`PUBLISHED_BATCH_DISCOUNT` applied to every token rate (the published batch rule)."""
    factor = PUBLISHED_BATCH_DISCOUNT
    return ListPrice(
        input=_scaled(price.input, factor),
        output=_scaled(price.output, factor),
        cached_input=_scaled(price.cached_input, factor),
        cache_write=_scaled(price.cache_write, factor),
        source=source,
    )


def _has_batch_variant(model: types.ModelInfo) -> bool:
    return any(variant.when == BATCH_CONTEXT for variant in model.price_variants or ())


@lru_cache(maxsize=512)
def listed_batch_price(provider: str, upstream: str, at: datetime | None = None) -> ListPrice | None:
    """The batch-API price of ``upstream``: the source's batch variant, else the list price at the published 50 %
    batch discount (source ``…+batch-50%``); ``None`` when the model has no price at all."""
    model = _model(provider, upstream)
    if model is None:
        return None
    if not _has_batch_variant(model):
        listed = listed_price(provider, upstream, at)
        return None if listed is None else discounted(listed, source=SOURCE + BATCH_RULE_SUFFIX)
    return _from_prices(model.get_prices(at or datetime.now(tz=UTC), BATCH_CONTEXT))


@lru_cache(maxsize=512)
def listed_price(provider: str, upstream: str, at: datetime | None = None) -> ListPrice | None:
    """The list price of ``upstream`` at ``provider`` in force at ``at`` (default: now), or ``None`` if unknown.

    A model without its own cached-input or cache-write price bills those tokens at the input rate (no discount is
    assumed that the source does not list).
    """
    model = _model(provider, upstream)
    if model is None:
        return None
    return _from_prices(model.get_prices(at or datetime.now(tz=UTC)))


def _from_prices(prices: types.ModelPrice) -> ListPrice | None:
    input_rate, output_rate = _rate(prices.input_mtok), _rate(prices.output_mtok)
    if input_rate is None or output_rate is None:
        return None
    return ListPrice(
        input=input_rate,
        output=output_rate,
        cached_input=_rate(prices.cache_read_mtok) or input_rate,
        cache_write=_rate(prices.cache_write_mtok) or input_rate,
        source=SOURCE,
    )


def listed_context_window(provider: str, upstream: str) -> int | None:
    """The context window the price source records for the model, if any."""
    model = _model(provider, upstream)
    return model.context_window if model is not None else None
