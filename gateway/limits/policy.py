"""Limit configuration: tiers, per-tenant and per-user overrides, and how they merge.

Merge rule (used by :func:`effective_limits`): an override replaces, field by field, exactly the fields it
*sets explicitly* (pydantic's ``model_fields_set``); every field it leaves out is inherited. An explicit
``null`` therefore removes a limit ("unlimited"), while an omitted field keeps the tier's value — including
``window_s``, so overriding ``tokens_per_window`` alone keeps the tier's window length. TOML has no ``null``:
to lift a limit from TOML, give the tenant a tier without it (a new tier, or a built-in one removed with
``[remove] limits.tiers = [...]`` and defined afresh; a config file's tier table otherwise overlays the built-in
tier of its name, see :mod:`gateway.config_file`).

Layering, lowest to highest:

* tenant level: ``tiers[tier].tenant`` ⊕ ``tenants[t].tenant``
* user level:   ``tiers[tier].user_default`` ⊕ ``tenants[t].user_default`` ⊕ ``tenants[t].users[u]``

A tenant not listed in ``tenants`` gets ``default_tier`` with no overrides.
"""

from __future__ import annotations

import weakref

from pydantic import BaseModel, ConfigDict, Field, model_validator

_LIMIT_FIELDS = ("requests_per_window", "tokens_per_window", "window_s", "usd_per_day", "usd_per_month")


class Limits(BaseModel):
    """Limits of one scope (a tenant, or one user). ``None`` means "no limit of this kind"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_window: int | None = Field(default=None, ge=0, description="Admitted requests per window.")
    tokens_per_window: int | None = Field(default=None, ge=0, description="Input + output tokens per window.")
    window_s: int = Field(default=60, ge=1, description="Length of the epoch-aligned tumbling window.")
    usd_per_day: float | None = Field(default=None, ge=0, description="Spend per UTC calendar day.")
    usd_per_month: float | None = Field(default=None, ge=0, description="Spend per UTC calendar month.")


class TierPolicy(BaseModel):
    """A named bundle of limits: one for the whole tenant, one for each of its users."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: Limits = Field(default_factory=Limits)
    user_default: Limits = Field(default_factory=Limits)


class TenantPolicy(BaseModel):
    """One tenant's tier and overrides. ``tier=None`` means the config's ``default_tier``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: str | None = None
    tenant: Limits | None = None
    user_default: Limits | None = None
    users: dict[str, Limits] = Field(default_factory=dict)


def _default_tiers() -> dict[str, TierPolicy]:
    return {
        "free": TierPolicy(
            tenant=Limits(requests_per_window=600, tokens_per_window=400_000, usd_per_day=5.0, usd_per_month=50.0),
            user_default=Limits(requests_per_window=60, tokens_per_window=100_000, usd_per_day=1.0),
        ),
        "pro": TierPolicy(
            tenant=Limits(
                requests_per_window=6_000,
                tokens_per_window=4_000_000,
                usd_per_day=500.0,
                usd_per_month=10_000.0,
            ),
            user_default=Limits(requests_per_window=600, tokens_per_window=1_000_000, usd_per_day=50.0),
        ),
    }


class LimitsConfig(BaseModel):
    """All limit configuration; meant to become ``Settings.limits``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: dict[str, TierPolicy] = Field(default_factory=_default_tiers)
    default_tier: str = "free"
    tenants: dict[str, TenantPolicy] = Field(default_factory=dict)
    alert_shares: tuple[float, ...] = Field(
        default=(0.8,),
        description="Shares of a USD budget (per day, per month) whose crossing sends one alert per period to "
        "the alerts topic; [] for none.",
    )

    @model_validator(mode="after")
    def _check_tiers(self) -> LimitsConfig:
        if bad := [share for share in self.alert_shares if not 0 < share <= 1]:
            raise ValueError(f"alert_shares must be in (0, 1], got {bad}")
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not among the tiers {sorted(self.tiers)}")
        for name, policy in self.tenants.items():
            if policy.tier is not None and policy.tier not in self.tiers:
                raise ValueError(f"tenant {name!r} uses unknown tier {policy.tier!r}")
        return self


_MemoKey = tuple[str | None, str | None]
# id(config) -> {(tenant key or None, user key or None): merged limits}. Kept outside the model so that config
# equality is unaffected; an entry is dropped when its config is garbage-collected (before its id can be
# reused).
_MEMOS: dict[int, dict[_MemoKey, tuple[Limits, Limits]]] = {}


def _memo(config: LimitsConfig) -> dict[_MemoKey, tuple[Limits, Limits]]:
    memo = _MEMOS.get(id(config))
    if memo is None:
        memo = _MEMOS[id(config)] = {}
        weakref.finalize(config, _MEMOS.pop, id(config), None)
    return memo


def merge_limits(base: Limits, override: Limits | None) -> Limits:
    """``base`` with every field that ``override`` sets explicitly replaced (see the module docstring)."""
    if override is None or not override.model_fields_set:
        return base
    update = {name: getattr(override, name) for name in _LIMIT_FIELDS if name in override.model_fields_set}
    return base.model_copy(update=update)


def effective_limits(config: LimitsConfig, tenant: str, user: str) -> tuple[Limits, Limits]:
    """The ``(tenant-level, user-level)`` limits that apply to ``user`` of ``tenant``.

    Results are memoised per ``config`` object; unconfigured tenants, and users without an override, share
    entries, so the memo never holds more than 1 + configured tenants + configured user overrides.
    """
    policy = config.tenants.get(tenant)
    key = (
        tenant if policy is not None else None,
        user if policy is not None and user in policy.users else None,
    )
    memo = _memo(config)
    cached = memo.get(key)
    if cached is not None:
        return cached
    if policy is None:
        tier = config.tiers[config.default_tier]
        result = (tier.tenant, tier.user_default)
    else:
        tier = config.tiers[policy.tier or config.default_tier]
        user_limits = merge_limits(tier.user_default, policy.user_default)
        if key[1] is not None:
            user_limits = merge_limits(user_limits, policy.users[user])
        result = (merge_limits(tier.tenant, policy.tenant), user_limits)
    memo[key] = result
    return result
