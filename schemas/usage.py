"""The usage event: one per request on ``llm.usage``, for analysts. It never carries prompt or output text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.result import ResultStatus


class UsageEvent(BaseModel):
    """Accounting record of one request."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    request_id: str
    tenant: str
    user: str
    task: str
    model: str | None
    provider: str | None
    status: ResultStatus
    error_code: str | None = None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool
    cache_hit: Literal["exact", "semantic"] | None = None
    coalesced: bool = False
    saved_usd: float = Field(default=0.0, description="What a cache hit would have cost at the model's prices.")
    latency_ms: float
    attempts: int
    ts_ms: int
    prompt_name: str | None = None
    prompt_version: str | None = None
    cascade_steps: int = 0
