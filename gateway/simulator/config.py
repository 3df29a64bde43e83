"""The simulator's start-up configuration."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.catalog import DEFAULT_MODELS
from gateway.settings import SimulatorSettings
from gateway.simulator.faults import FaultSpec


def _catalog_models() -> tuple[str, ...]:
    return tuple(sorted({spec.upstream for spec in DEFAULT_MODELS.values()}))


class SimulatorConfig(BaseModel):
    """How a simulator starts: base latency, the seed of its random faults and initial faults per model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_ms: float = Field(default=0.0, ge=0, description="Latency of every call.")
    jitter_ms: float = Field(default=0.0, ge=0, description="Extra latency drawn uniformly from [0, jitter_ms].")
    seed: int = Field(default=0, description="Seed of error_rate draws and jitter.")
    faults: dict[str, FaultSpec] = Field(default_factory=dict, description="Initial faults per model or '*'.")
    require_auth: bool = Field(default=True, description="Answer 401 when the API-key header is missing.")
    hang_max_s: float = Field(default=600.0, gt=0, description="A 'hang' gives up after this long (504).")
    models: tuple[str, ...] = Field(default_factory=_catalog_models, description="Listed by GET /v1/models.")
    max_tracked_request_ids: int = Field(default=100_000, ge=1, description="Bound of per-request-id stats.")
    batch_delay_ms: float = Field(default=1000.0, ge=0, description="A batch job ends this long after creation.")
    stream_chunk_words: int = Field(default=3, ge=1, description="Words per streamed text delta.")
    stream_delta_ms: float = Field(default=0.0, ge=0, description="Pause before each streamed delta after the first.")

    @classmethod
    def from_settings(cls, settings: SimulatorSettings, **overrides: Any) -> SimulatorConfig:
        """A config from the gateway's :class:`SimulatorSettings` (latency), with ``overrides`` on top."""
        return cls(**{"latency_ms": settings.latency_ms, **overrides})
