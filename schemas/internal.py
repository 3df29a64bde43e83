"""Events on the gateway's internal topics. Not part of the public contract; versioned all the same."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.request import LLMRequest
from schemas.result import Attempt, CascadeStep, ErrorInfo, GuardVerdict, Lane, ResultStatus


class Reservation(BaseModel):
    """What screening reserved against the tenant's and user's limits (worst case)."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    at: float = 0.0

    @property
    def tokens(self) -> int:
        """Reserved input plus output tokens."""
        return self.input_tokens + self.output_tokens


class GuardState(BaseModel):
    """What the content guards decided at intake, carried to screening (the admit event's ``sg-guards`` header)."""

    model_config = ConfigDict(frozen=True)

    verdicts: list[GuardVerdict] = Field(default_factory=list)
    error: ErrorInfo | None = Field(default=None, description="Set when a content guard blocked the request.")
    restore: list[tuple[str, str]] = Field(
        default_factory=list, description="Placeholder -> the client's value; only under the tenant's pii_restore."
    )


class Settlement(BaseModel):
    """How a request ended, sent to the account stage on ``streamgate.settle`` (keyed by tenant)."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    request: LLMRequest
    received_ms: int
    reservation: Reservation | None = Field(default=None, description="None when nothing was reserved.")
    reemit: bool = Field(default=False, description="A duplicate publish of a finished request: answer again.")
    delivered: bool = Field(
        default=False,
        description="The screening worker already delivered the result and usage event but lost the tenant's "
        "partition before applying the usage: the owner only applies it.",
    )
    status: ResultStatus
    output: str | None = None
    parsed: Any = None
    model: str | None = None
    provider: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached: bool = False
    cache_hit: Literal["exact", "semantic"] | None = None
    cache_similarity: float | None = None
    coalesced: bool = False
    error: ErrorInfo | None = None
    attempt_log: list[Attempt] = Field(default_factory=list)
    cascade: list[CascadeStep] = Field(default_factory=list, description="Every step of a cascade, when one ran.")
    prompt_name: str | None = None
    prompt_version: str | None = None
    guards: list[GuardVerdict] = Field(default_factory=list)
    lane: Lane = "interactive"
    batch_job_id: str | None = None
