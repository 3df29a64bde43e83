"""Configuration of the resilience core: retries, circuit breakers, provider limits and fallback chains.

These models are plain frozen pydantic models; :class:`ResilienceSettings` is meant to become the
``resilience`` field of :class:`gateway.settings.Settings` (so ``STREAMGATE_RESILIENCE__ATTEMPT_TIMEOUT_S=10``
and the TOML table ``[resilience]`` work like every other nested setting).

Every per-model mapping is keyed by the *catalog* model name (``gpt-4o``), never by the upstream name.
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.catalog import DEFAULT_FALLBACKS
from gateway.errors import ConfigError


class RetryPolicy(BaseModel):
    """How often one link of a fallback chain is tried and how long to wait between tries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1, description="Attempts on one link, the first one included.")
    base_delay_s: float = Field(default=0.2, ge=0, description="Backoff ceiling after the first failure.")
    max_delay_s: float = Field(default=5.0, ge=0, description="Upper bound of the exponential backoff ceiling.")
    multiplier: float = Field(default=2.0, ge=1, description="Growth of the backoff ceiling per attempt.")
    honour_retry_after: bool = Field(default=True, description="Wait at least a provider's Retry-After.")
    max_retry_after_s: float = Field(default=30.0, ge=0, description="Cap on an honoured Retry-After.")

    @model_validator(mode="after")
    def _check_delays(self) -> RetryPolicy:
        if self.max_delay_s < self.base_delay_s:
            raise ConfigError(f"max_delay_s ({self.max_delay_s}) is below base_delay_s ({self.base_delay_s})")
        return self


class BreakerPolicy(BaseModel):
    """When a (provider, model) circuit opens, how long it stays open and how it closes again.

    The circuit opens after ``failure_threshold`` consecutive failures, or when at least ``min_calls`` calls
    in the last ``window_s`` seconds failed at a ratio of ``error_ratio`` or more. After ``cooldown_s`` it
    turns half-open and admits ``half_open_probes`` concurrent probes: a successful probe closes it, a failed
    one opens it again for another cooldown.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_threshold: int = Field(default=5, ge=1)
    error_ratio: float = Field(default=0.5, gt=0, le=1)
    window_s: float = Field(default=60.0, gt=0)
    min_calls: int = Field(default=20, ge=1)
    cooldown_s: float = Field(default=30.0, gt=0)
    half_open_probes: int = Field(default=1, ge=1)


class ProviderLimit(BaseModel):
    """A provider's published limits for one model; ``None`` means unlimited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rpm: int | None = Field(default=None, gt=0, description="Requests per minute.")
    tpm: int | None = Field(default=None, gt=0, description="Tokens per minute.")


class ResilienceSettings(BaseModel):
    """Everything the resilient completion stage needs to know."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_retry: RetryPolicy = Field(default_factory=RetryPolicy)
    retry: dict[str, RetryPolicy] = Field(default_factory=dict, description="Per catalog model override.")
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    fallbacks: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_FALLBACKS.items()},
        description="Catalog model -> ordered fallback models (not transitive).",
    )
    limits: dict[str, ProviderLimit] = Field(default_factory=dict, description="Per catalog model.")
    attempt_timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one provider attempt.")
    max_request_s: float = Field(default=120.0, gt=0, description="Overall budget when a request has no deadline.")

    def retry_for(self, model: str) -> RetryPolicy:
        """The retry policy of a catalog model: its override, else :attr:`default_retry`."""
        return self.retry.get(model, self.default_retry)

    def fallback_models(self, model: str) -> list[str]:
        """``model`` followed by its fallbacks, without duplicates, in order."""
        return list(dict.fromkeys([model, *self.fallbacks.get(model, [])]))

    def check_models(self, known: Collection[str]) -> None:
        """Raise :class:`ConfigError` when a mapping names a model missing from the catalog ``known``."""
        named = set(self.retry) | set(self.limits) | set(self.fallbacks)
        for targets in self.fallbacks.values():
            named.update(targets)
        unknown = sorted(named - set(known))
        if unknown:
            raise ConfigError(f"resilience settings name unknown models: {', '.join(unknown)}")
