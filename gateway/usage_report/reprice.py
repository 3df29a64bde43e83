"""``--reprice``: each event's cost again at the current price table (config overrides included).

Only answered, non-cached events cost anything; their token split is priced exactly as the account stage would
price it now. An event whose model is not in the catalog, or has no price, reprices to 0 and is counted apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from gateway.catalog import ModelSpec
from gateway.pricing import cost_usd, price_of
from gateway.token_counts import TokenCounts
from schemas.usage import UsageEvent


def repriced_usd(event: UsageEvent, models: Mapping[str, ModelSpec]) -> Decimal | None:
    """The event's cost at today's prices; ``None`` when its model cannot be priced now."""
    if event.status != "ok" or event.cached or event.model is None:
        return Decimal(0)
    spec = models.get(event.model)
    price = price_of(spec) if spec is not None else None
    if price is None:
        return None
    return Decimal(repr(cost_usd(price, TokenCounts.of(event))))
