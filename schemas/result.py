"""The result event published on the request's ``reply_to`` topic, keyed by request ``id``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.codes import ErrorCode
from schemas.event_ids import with_event_id

ResultStatus = Literal["ok", "rejected", "error"]
Lane = Literal["interactive", "batch"]


class TokenUsage(BaseModel):
    """Token counts of one request: ``input_tokens`` includes the cached and cache-write tokens, ``output_tokens``
    the reasoning tokens (the same normalised meaning as the usage event's fields)."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


class ErrorInfo(BaseModel):
    """Why a request was rejected or failed. ``code`` is stable; ``message`` is for humans."""

    model_config = ConfigDict(frozen=True)

    code: ErrorCode
    message: str
    retry_after_ms: int | None = None
    limit: str | None = Field(default=None, description="Which limit tripped, for rate_limited/budget_exhausted.")
    details: list[dict[str, Any]] = Field(default_factory=list, description="e.g. every fallback link's error.")


class Attempt(BaseModel):
    """One provider attempt made while serving a request."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    outcome: str = Field(description="'ok' or an error code.")
    latency_ms: float
    status: int | None = None


class CascadeStep(BaseModel):
    """One step of a cheap-first cascade: the model asked, how its answer was judged and what it cost."""

    model_config = ConfigDict(frozen=True)

    model: str
    outcome: str = Field(description="'ok', or why the cascade escalated: empty, refusal, output_invalid, ...")
    cost_usd: float = 0.0


class RouteInfo(BaseModel):
    """How the request was routed: the models of each step, and every cascade step taken."""

    model_config = ConfigDict(frozen=True)

    task: str = "general"
    cascade: list[CascadeStep] = Field(default_factory=list, description="Empty when the route had one step.")


GuardAction = Literal["pass", "redact", "block", "allow"]


class GuardVerdict(BaseModel):
    """What one guard decided about a request or its output. ``entities`` counts findings by type, never text."""

    model_config = ConfigDict(frozen=True)

    guard: str
    action: GuardAction
    score: float | None = Field(default=None, description="The guard's score (e.g. injection probability).")
    entities: dict[str, int] | None = Field(default=None, description="Findings by entity type, e.g. EMAIL_ADDRESS: 2.")


class LLMResult(BaseModel):
    """The answer to one :class:`schemas.request.LLMRequest`."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    id: str
    type: Literal["result"] = Field(
        default="result", description="Tells the result from a streamed request's chunk events (`type: chunk`)."
    )
    event_id: str = Field(
        default="",
        description="Stable across redeliveries: uuid5(NAMESPACE_URL, 'streamgate:result:<id>'). Drop a result whose "
        "event_id was seen already.",
    )
    status: ResultStatus
    output: str | None = None
    parsed: Any = None
    model: str | None = None
    provider: str | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float | None = Field(default=0.0, description="null when the model has no known price.")
    price_known: bool = True
    cached: bool = False
    cache_hit: Literal["exact", "semantic"] | None = Field(
        default=None, description="How a cached answer was found; null when the answer is fresh."
    )
    cache_similarity: float | None = Field(default=None, description="Cosine similarity of a semantic hit.")
    coalesced: bool = Field(
        default=False,
        description="Answered from the provider call of a concurrent identical request (cache_hit 'exact', cost 0).",
    )
    error: ErrorInfo | None = None
    latency_ms: float = 0.0
    attempts: int = Field(default=0, description="Provider attempts made (0 for cache hits and rejections).")
    attempt_log: list[Attempt] = Field(default_factory=list)
    route: RouteInfo | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    guards: list[GuardVerdict] = Field(default_factory=list, description="Verdicts of the content and output guards.")
    lane: Lane = Field(default="interactive", description="The lane that answered: batch when a batch job did.")
    batch_job_id: str | None = Field(
        default=None, description="The gateway's batch job the request went through (also when it fell back)."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_event_id(cls, data: Any) -> Any:
        """Derive ``event_id`` from ``id`` when it is not given."""
        return with_event_id(data, "result", "id")
