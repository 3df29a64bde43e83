"""Cache policy: the ``[cache]`` settings section and the effective policy of one (tenant, task).

``[cache]`` holds the defaults; ``[cache.tasks.<task>]`` and ``[cache.tenants.<tenant>]`` override them field by
field, the tenant's rule over the task's. A TTL of 0 anywhere (task or tenant) means "never cache": a personalised
task stays uncached whatever a tenant's rule says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["tenant", "shared"]
# The sentence models of gateway/semantic/embedder.py (kept in step with its _MODELS; a test checks).
EmbeddingModel = Literal["paraphrase-minilm-l3-int8", "minilm-l6-int8"]


class CacheRule(BaseModel):
    """Overrides for one task or tenant; unset fields inherit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl_s: int | None = Field(default=None, ge=0, description="0: never cache.")
    scope: Scope | None = None
    allow_temperature: bool | None = None
    semantic: bool | None = None
    semantic_threshold: float | None = Field(default=None, gt=0.0, le=1.0)


class CacheSettings(BaseModel):
    """The ``[cache]`` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl_s: int = Field(default=3600, ge=0, description="Default TTL of a cached answer; 0: never cache.")
    scope: Scope = Field(default="tenant", description="tenant: entries are the tenant's own; shared: across tenants.")
    allow_temperature: bool = Field(default=False, description="Cache requests with temperature > 0.")
    semantic: bool = Field(default=False, description="Look up the semantic cache for every request (opt-in).")
    semantic_threshold: float = Field(default=0.50, gt=0.0, le=1.0, description="Cosine similarity for a candidate.")
    restructured_threshold: float = Field(
        default=0.80, gt=0.0, le=1.0, description="Similarity a reworded (restructured) question must reach."
    )
    semantic_model: EmbeddingModel = Field(
        default="paraphrase-minilm-l3-int8", description="Embedding model (gateway/semantic/embedder.py)."
    )
    semantic_max_entries: int = Field(default=10_000, ge=1, description="Semantic entries kept per tenant.")
    semantic_max_tokens: int = Field(default=64, ge=8, le=256, description="Question tokens embedded.")
    embed_threads: int = Field(default=1, ge=1, le=8, description="ONNX intra-op threads of the embedder.")
    coalesce: bool = Field(default=True, description="Concurrent identical misses share one provider call.")
    tasks: dict[str, CacheRule] = Field(default_factory=dict)
    tenants: dict[str, CacheRule] = Field(default_factory=dict)

    @property
    def semantic_configured(self) -> bool:
        """Whether the defaults, a task or a tenant turn the semantic cache on (a request can still ask for it)."""
        return self.semantic or any(r.semantic for r in (*self.tasks.values(), *self.tenants.values()))


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """What the cache does for one request's tenant and task."""

    ttl_s: int
    scope: Scope
    allow_temperature: bool
    semantic: bool
    semantic_threshold: float

    @property
    def enabled(self) -> bool:
        """False when answers are never cached (TTL 0)."""
        return self.ttl_s > 0


def effective_policy(settings: CacheSettings, tenant: str, task: str) -> EffectivePolicy:
    """Defaults, then the task's rule, then the tenant's; a TTL of 0 in either rule wins."""
    rules = [r for r in (settings.tasks.get(task), settings.tenants.get(tenant)) if r is not None]
    ttl, scope, allow, semantic, threshold = (
        settings.ttl_s, settings.scope, settings.allow_temperature, settings.semantic, settings.semantic_threshold
    )  # fmt: skip
    for rule in rules:
        ttl = rule.ttl_s if rule.ttl_s is not None else ttl
        scope = rule.scope or scope
        allow = rule.allow_temperature if rule.allow_temperature is not None else allow
        semantic = rule.semantic if rule.semantic is not None else semantic
        threshold = rule.semantic_threshold or threshold
    if any(r.ttl_s == 0 for r in rules):
        ttl = 0
    return EffectivePolicy(ttl, scope, allow, semantic, threshold)
