"""Fault configuration and state, per model name, with ``"*"`` as the default for models without their own.

A :class:`FaultSpec` says how a model misbehaves; the :class:`FaultRegistry` keeps one per model and turns
it into a :class:`FaultDecision` for each call. Counted faults (``fail_next``, ``rate_limit``) count down as
calls arrive; ``error_rate`` and jitter draw from a generator seeded with ``(seed, model)``, so a run is
repeatable. When several faults are set, the first that applies wins: hang, rate_limit, fail_next,
error_rate, malformed (``cut_stream_next`` applies to an answer none of those replaced).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_KEY = "*"


class FaultSpec(BaseModel):
    """How one model (or ``"*"``) misbehaves. Every field defaults to "behave"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_ms: float = Field(default=0.0, ge=0, description="Added latency per call.")
    jitter_ms: float = Field(default=0.0, ge=0, description="Extra latency drawn uniformly from [0, jitter_ms].")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Probability that a call fails.")
    error_status: int = Field(default=500, ge=400, le=599, description="Status of error_rate failures.")
    fail_next: int = Field(default=0, ge=0, description="Fail this many upcoming calls, then recover.")
    fail_status: int | None = Field(default=None, ge=400, le=599, description="Status of fail_next (error_status).")
    hang: bool = Field(default=False, description="Never answer; the client has to give up.")
    rate_limit: int = Field(default=0, ge=-1, description="Answer 429 to this many upcoming calls; -1: every call.")
    retry_after_s: float = Field(default=1.0, ge=0, description="Retry-After of the 429 answers.")
    malformed: bool = Field(default=False, description="Answer 200 with a body that is not valid JSON.")
    bad_json: bool = Field(
        default=False, description="Break JSON replies as the `#sim:bad_json` directive does (e.g. one cheap model)."
    )
    cut_stream_next: int = Field(
        default=0, ge=0, description="Drop the connection halfway through this many upcoming streamed answers."
    )


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one call: wait ``delay_s``, then hang, fail (``status``), send garbage or answer."""

    delay_s: float = 0.0
    status: int | None = None
    retry_after_s: float | None = None
    hang: bool = False
    malformed: bool = False
    bad_json: bool = False
    cut_stream: bool = False


def _stable_seed(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big")


class FaultRegistry:
    """The live fault state of a simulator: one :class:`FaultSpec` per model plus the base latency."""

    def __init__(
        self,
        *,
        seed: int = 0,
        initial: Mapping[str, FaultSpec] | None = None,
        base_latency_ms: float = 0.0,
        base_jitter_ms: float = 0.0,
    ) -> None:
        self.seed = seed
        self.base_latency_ms = base_latency_ms
        self.base_jitter_ms = base_jitter_ms
        self._initial: dict[str, FaultSpec] = dict(initial or {})
        self._specs: dict[str, FaultSpec] = dict(self._initial)
        self._rngs: dict[str, random.Random] = {}

    def set(self, model: str, *, replace: bool = False, **fields: Any) -> FaultSpec:
        """Set faults of ``model`` (or ``"*"``), merged into its current ones unless ``replace``.

        Raises :class:`pydantic.ValidationError` on unknown fields or bad values.
        """
        current = {} if replace or model not in self._specs else self._specs[model].model_dump()
        spec = FaultSpec.model_validate({**current, **fields})
        self._specs[model] = spec
        return spec

    def get(self, model: str) -> FaultSpec | None:
        """The spec that applies to ``model``: its own, else ``"*"``, else ``None``."""
        return self._specs.get(model, self._specs.get(DEFAULT_KEY))

    def clear(self, model: str | None = None) -> None:
        """Remove the faults of ``model``, or of every model (initial ones included) when ``None``."""
        if model is None:
            self._specs.clear()
        else:
            self._specs.pop(model, None)

    def reset(self) -> None:
        """Back to the start state: the configured initial faults and freshly seeded generators."""
        self._specs = dict(self._initial)
        self._rngs.clear()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The current specs as JSON-ready dicts (counted faults show what is left)."""
        return {model: spec.model_dump() for model, spec in self._specs.items()}

    def _rng(self, key: str) -> random.Random:
        rng = self._rngs.get(key)
        if rng is None:
            rng = self._rngs[key] = random.Random(_stable_seed(self.seed, key))
        return rng

    def _base_delay_s(self) -> float:
        jitter = self._rng("").uniform(0, self.base_jitter_ms) if self.base_jitter_ms else 0.0
        return (self.base_latency_ms + jitter) / 1000.0

    def decide(self, model: str) -> FaultDecision:
        """Decide the fate of one call to ``model``, consuming counted faults."""
        base = self._base_delay_s()
        key = model if model in self._specs else DEFAULT_KEY
        spec = self._specs.get(key)
        if spec is None:
            return FaultDecision(delay_s=base) if base else _NO_FAULT
        rng = self._rng(key)
        delay = base + (spec.latency_ms + (rng.uniform(0, spec.jitter_ms) if spec.jitter_ms else 0.0)) / 1000.0
        if spec.hang:
            return FaultDecision(delay_s=delay, hang=True)
        if spec.rate_limit:
            if spec.rate_limit > 0:
                self._specs[key] = spec.model_copy(update={"rate_limit": spec.rate_limit - 1})
            return FaultDecision(delay_s=delay, status=429, retry_after_s=spec.retry_after_s)
        if spec.fail_next:
            self._specs[key] = spec.model_copy(update={"fail_next": spec.fail_next - 1})
            status = spec.fail_status or spec.error_status
            return FaultDecision(delay_s=delay, status=status, retry_after_s=_retry_after(status, spec))
        if spec.error_rate and rng.random() < spec.error_rate:
            status = spec.error_status
            return FaultDecision(delay_s=delay, status=status, retry_after_s=_retry_after(status, spec))
        cut = spec.cut_stream_next > 0
        if cut:
            self._specs[key] = spec.model_copy(update={"cut_stream_next": spec.cut_stream_next - 1})
        return FaultDecision(delay_s=delay, malformed=spec.malformed, bad_json=spec.bad_json, cut_stream=cut)


def _retry_after(status: int, spec: FaultSpec) -> float | None:
    return spec.retry_after_s if status == 429 else None


_NO_FAULT = FaultDecision()
