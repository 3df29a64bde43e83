"""The ``reject`` policy for models without a known price (``pricing.unknown_policy``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.catalog import ModelSpec
from gateway.limits.policy import Limits
from gateway.pricing import PricingSettings, price_of
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo


def unpriced_refusal(
    specs: Sequence[ModelSpec], scopes: Iterable[Limits], pricing: PricingSettings
) -> ErrorInfo | None:
    """A ``price_unknown`` rejection when the policy is ``reject``, a USD budget applies to the request and a model
    it may be served by has no price; ``None`` otherwise (the ``reserve`` policy prices it at the configured rate).
    """
    if pricing.unknown_policy != "reject":
        return None
    if not any(s.usd_per_day is not None or s.usd_per_month is not None for s in scopes):
        return None
    unpriced = sorted({spec.upstream for spec in specs if price_of(spec) is None})
    if not unpriced:
        return None
    return ErrorInfo(
        code=ErrorCode.PRICE_UNKNOWN,
        message=f"no known price for {', '.join(unpriced)} and a USD budget applies",
        limit="usd",
    )
