"""The in-process envelope that carries one admitted request between the stages of a worker."""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.resilience.chain import Route
from gateway.routing.config import OutputCheck
from schemas.internal import Reservation, Settlement
from schemas.request import LLMRequest
from schemas.result import Attempt, CascadeStep, ErrorInfo, GuardVerdict, Lane, ResultStatus


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """The route decided once at screening: one step, or a cheap-first cascade of steps, each with fallbacks.

    ``check`` is the task's configurable answer check (a failing answer escalates a cascade).
    """

    steps: tuple[Route, ...]
    task: str = "general"
    check: OutputCheck | None = None

    @property
    def first(self) -> Route:
        """The route of the first (or only) step."""
        return self.steps[0]

    @property
    def is_cascade(self) -> bool:
        """Whether a bad answer may escalate to a further step."""
        return len(self.steps) > 1

    @property
    def models(self) -> tuple[str, ...]:
        """The primary model of each step."""
        return tuple(step.primary.model for step in self.steps)


@dataclass(frozen=True, slots=True)
class Job:
    """A request travelling through cache -> route -> complete -> validate inside one worker.

    ``source`` is the Kafka event the request was admitted from: it is acked only once what settles the job is on
    the broker (its result and usage event when settled in place, else its settlement on the settle topic), which
    is what keeps in-process edges at-least-once.
    """

    request: LLMRequest
    received_ms: int
    reservation: Reservation | None
    source: Any = None
    reemit: bool = False
    route: Route | None = None
    plan: RoutePlan | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    cascade: tuple[CascadeStep, ...] = ()
    status: ResultStatus | None = None
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
    cache_lead: str | None = None  # the exact-cache key whose concurrent misses wait for this job's answer
    error: ErrorInfo | None = None
    attempt_log: tuple[Attempt, ...] = field(default_factory=tuple)
    guards: tuple[GuardVerdict, ...] = ()
    lane: Lane = "interactive"  # the lane that answered (or will): batch once a batch job holds the request
    batch_job_id: str | None = None
    parked: bool = False  # handed to the batch lane: its batch job settles it later (agents.batch_lane)
    restore: tuple[
        tuple[str, str], ...
    ] = ()  # placeholder -> the client's value (pii_restore); never leaves the process
    stream: Any = None  # a streamed request's chunks so far (agents.stream_output.StreamState); in process only

    @property
    def finished(self) -> bool:
        """True once a stage has decided the outcome (later stages pass it through)."""
        return self.status is not None

    @property
    def short_circuited(self) -> bool:
        """True when no later stage has work left: refused, failed, or answered from the cache."""
        return self.status in ("rejected", "error") or self.cached or self.parked

    def evolve(self, **changes: Any) -> Job:
        """A copy with ``changes`` applied (what ``dataclasses.replace`` returns; an unknown name is a
        ``TypeError``)."""
        return _copy_with(self, changes)

    def fail(self, error: ErrorInfo, *, status: ResultStatus = "error") -> Job:
        """A copy that ends with ``error``."""
        return _copy_with(self, {"status": status, "error": error})

    def to_settlement(self) -> Settlement:
        """The event the account stage receives."""
        return Settlement(
            request=self.request,
            received_ms=self.received_ms,
            reservation=self.reservation,
            reemit=self.reemit,
            status=self.status or "error",
            output=self.output,
            parsed=self.parsed,
            model=self.model,
            provider=self.provider,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cached_input_tokens=self.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens,
            cached=self.cached,
            cache_hit=self.cache_hit,
            cache_similarity=self.cache_similarity,
            coalesced=self.coalesced,
            error=self.error,
            attempt_log=list(self.attempt_log),
            cascade=list(self.cascade),
            prompt_name=self.prompt_name,
            prompt_version=self.prompt_version,
            guards=list(self.guards),
            lane=self.lane,
            batch_job_id=self.batch_job_id,
        )


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Job))
_READ_ALL = operator.attrgetter(*_FIELD_NAMES)
# The slots' own setters: they write a frozen instance's field without its __setattr__ (which refuses).
_WRITERS: dict[str, Any] = {name: getattr(Job, name).__set__ for name in _FIELD_NAMES}
_WRITE_ALL = tuple(_WRITERS.values())


def _copy_with(job: Job, changes: dict[str, Any]) -> Job:
    """``dataclasses.replace(job, **changes)`` at a third of its cost: a job is copied 4-6 times per request and
    has 33 fields, which ``replace`` walks in Python and passes through ``__init__`` as keywords. Exact while
    :class:`Job` has no ``__post_init__`` and no ``init=False`` field (``tests/agents/test_job.py``)."""
    new = object.__new__(Job)
    for write, value in zip(_WRITE_ALL, _READ_ALL(job), strict=True):
        write(new, value)
    for name, value in changes.items():
        write = _WRITERS.get(name)
        if write is None:
            raise TypeError(f"Job has no field {name!r}")
        write(new, value)
    return new
