"""The usage event: one per request on ``llm.usage``, for analysts. It never carries prompt or output text.

Version 2 adds the token split by billing kind, ``price_known``, ``price_source`` and ``saved_usd``; a v1 event
reads as v2 with the new counts 0. Token fields follow one normalised meaning for every provider (see each field):
``input_tokens`` includes the cached and cache-write tokens and ``output_tokens`` includes the reasoning tokens, so
``input_tokens + output_tokens`` is always the request's total and the parts never double-count.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.event_ids import with_event_id
from schemas.result import Lane, ResultStatus


class UsageEvent(BaseModel):
    """Accounting record of one request (keyed by tenant; delivery is at-least-once: count each ``event_id`` once)."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1, 2] = 2
    request_id: str
    event_id: str = Field(
        default="",
        description="Stable across redeliveries: uuid5(NAMESPACE_URL, 'streamgate:usage:<tenant>:<request_id>'). "
        "Count an event_id once.",
    )
    tenant: str
    user: str
    task: str
    model: str | None = Field(description="Catalog model name that answered; null when none did.")
    provider: str | None
    status: ResultStatus
    error_code: str | None = None
    input_tokens: int = Field(description="All prompt tokens, including cached_input_tokens and cache_write_tokens.")
    cached_input_tokens: int = Field(
        default=0, description="Prompt tokens read from the provider's prompt cache (billed at the cached-input rate)."
    )
    cache_write_tokens: int = Field(
        default=0, description="Prompt tokens written to the provider's prompt cache (billed at the cache-write rate)."
    )
    output_tokens: int = Field(description="All generated tokens, including reasoning_tokens.")
    reasoning_tokens: int = Field(default=0, description="Hidden reasoning tokens (billed as output).")
    cost_usd: float | None = Field(
        description="List price (or negotiated override) of exactly these token counts; 0 for cache hits, "
        "rejections and failures; null when the model has no known price (price_known false)."
    )
    price_known: bool = Field(default=True, description="False when the model had no price: cost_usd is null.")
    price_source: str | None = Field(
        default=None, description="Where the prices came from, e.g. 'genai-prices@0.2.3' or 'config'."
    )
    saved_usd: float = Field(default=0.0, description="For cache hits: what the answer would have cost fresh.")
    cached: bool
    cache_hit: Literal["exact", "semantic"] | None = None
    coalesced: bool = False
    latency_ms: float
    attempts: int
    ts_ms: int
    prompt_name: str | None = None
    prompt_version: str | None = None
    cascade_steps: int = 0
    lane: Lane = Field(default="interactive", description="The lane that answered (batch: priced at the batch rate).")
    batch_job_id: str | None = Field(default=None, description="The gateway's batch job the request went through.")
    lane_saved_usd: float = Field(
        default=0.0, description="For batch answers: the interactive price of the same tokens minus cost_usd."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_event_id(cls, data: Any) -> Any:
        """Derive ``event_id`` from ``tenant`` and ``request_id`` when it is not given."""
        return with_event_id(data, "usage", "request_id", "tenant")
