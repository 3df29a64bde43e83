"""The budget alert on ``llm.alerts``: a tenant or user crossed a configured share of a USD budget."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def alert_id(key: str, limit: str, period: str, share: float) -> str:
    """The stable id of one alert: a UUID v5 of the limit key, the limit, the period and the share crossed.

    Delivery is at-least-once (an alert can be repeated after a crash); consumers drop repeats by this id.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"streamgate:alert:{key}:{limit}:{period}:{share:g}"))


class BudgetAlert(BaseModel):
    """One crossing of ``share`` of ``limit`` by a tenant (``user`` null) or one of its users, in ``period``."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    alert_id: str = Field(description="Stable per (key, limit, period, share): drop repeated deliveries by it.")
    kind: Literal["budget"] = "budget"
    scope: Literal["tenant", "user"]
    tenant: str
    user: str | None = None
    limit: Literal["usd_per_day", "usd_per_month"]
    period: str = Field(description="The UTC day (YYYY-MM-DD) or month (YYYY-MM) the budget is for.")
    share: float = Field(description="The configured share crossed, e.g. 0.8.")
    spent_usd: float = Field(description="Settled spend of the period when the alert was raised.")
    limit_usd: float
    ts_ms: int
