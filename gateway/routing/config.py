"""The ``[routing]`` settings: tiers -> models, tasks -> tier or cascade, per-tenant overrides and allow-lists.

```toml
[routing.tiers]
small = "gpt-4o-mini"
large = "gpt-4o"
[routing.tasks.classify]
tier = "small"
[routing.tasks.extract]
cascade = ["gpt-4o-mini", "gpt-4o"]      # cheap first, escalate on a bad answer
context = "trim_oldest"
[routing.tenants.acme]
allowed_models = ["gpt-4o-mini", "claude-3-5-haiku"]
```

A cascade entry or a ``tier``'s target is a tier name, a catalog model or an alias.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.errors import ConfigError

ContextPolicy = Literal["trim_oldest", "reject"]


class OutputCheck(BaseModel):
    """A configurable quality check on an answer; a failing answer escalates a cascade to its next step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_chars: int = Field(default=0, ge=0, description="Answers shorter than this (stripped) fail.")
    regex: str | None = Field(default=None, description="Answers must contain a match (re.search).")
    must_parse: Literal["json"] | None = Field(default=None, description="Answers must parse as JSON.")


class TaskRoute(BaseModel):
    """How one task type is routed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: str | None = None
    cascade: tuple[str, ...] = Field(default=(), description="Models (or tiers) cheap first.")
    context: ContextPolicy = "reject"
    check: OutputCheck | None = None

    @model_validator(mode="after")
    def _one_way(self) -> TaskRoute:
        if self.tier is not None and self.cascade:
            raise ConfigError("a task routes by `tier` or by `cascade`, not both")
        return self


class TenantRouting(BaseModel):
    """A tenant's overrides: its own tiers and tasks, and the models it may use (``None``: any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_models: tuple[str, ...] | None = None
    tiers: dict[str, str] = Field(default_factory=dict)
    tasks: dict[str, TaskRoute] = Field(default_factory=dict)


class RoutingSettings(BaseModel):
    """Task-tier routing for every tenant, with per-tenant overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: dict[str, str] = Field(default_factory=lambda: {"small": "gpt-4o-mini", "large": "gpt-4o"})
    tasks: dict[str, TaskRoute] = Field(default_factory=dict)
    tenants: dict[str, TenantRouting] = Field(default_factory=dict)

    def tiers_for(self, tenant: str) -> dict[str, str]:
        """The tier table a tenant sees (its own entries over the global ones)."""
        own = self.tenants.get(tenant)
        return {**self.tiers, **own.tiers} if own is not None else dict(self.tiers)

    def task_for(self, tenant: str, task: str) -> TaskRoute:
        """The routing of ``task`` for ``tenant``: the tenant's own entry, else the global one, else defaults."""
        own = self.tenants.get(tenant)
        if own is not None and task in own.tasks:
            return own.tasks[task]
        return self.tasks.get(task, _DEFAULT_TASK)

    def allowed(self, tenant: str) -> frozenset[str] | None:
        """The catalog models ``tenant`` may use, or ``None`` when it is not restricted."""
        own = self.tenants.get(tenant)
        if own is None or own.allowed_models is None:
            return None
        return frozenset(own.allowed_models)

    def check_models(self, resolve: Callable[[str], str | None], catalog: Collection[str]) -> None:
        """Raise :class:`ConfigError` when a tier, cascade step or allow-list names an unknown model."""
        tables = [(None, self.tiers, self.tasks)] + [(t, r.tiers, r.tasks) for t, r in self.tenants.items()]
        for tenant, tiers, tasks in tables:
            names = {**self.tiers, **tiers}
            for tier, model in tiers.items():
                if resolve(model) is None:
                    raise ConfigError(f"routing tier {tier!r} points at unknown model {model!r}")
            for task, route in tasks.items():
                for step in (*route.cascade, *([route.tier] if route.tier else [])):
                    if step not in names and resolve(step) is None:
                        raise ConfigError(f"routing task {task!r} names unknown tier or model {step!r}")
            own = self.tenants.get(tenant) if tenant is not None else None
            for model in (own.allowed_models or ()) if own is not None else ():
                if model not in catalog:
                    raise ConfigError(f"tenant {tenant!r} allows unknown model {model!r}")


_DEFAULT_TASK = TaskRoute()
