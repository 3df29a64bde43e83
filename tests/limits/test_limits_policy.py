"""Limit configuration: defaults, validation and the field-by-field merge rule."""

from __future__ import annotations

import gc

import pytest
from pydantic import ValidationError

from gateway.limits import policy as policy_module
from gateway.limits.policy import (
    Limits,
    LimitsConfig,
    TenantPolicy,
    TierPolicy,
    effective_limits,
    merge_limits,
)


def test_default_tiers_free_and_pro() -> None:
    config = LimitsConfig()
    assert set(config.tiers) == {"free", "pro"}
    assert config.default_tier == "free"
    free, pro = config.tiers["free"], config.tiers["pro"]
    for tier in (free, pro):
        for limits in (tier.tenant, tier.user_default):
            assert limits.requests_per_window is not None
            assert limits.tokens_per_window is not None
            assert limits.usd_per_day is not None
        # a user's default share never exceeds the tenant's
        assert tier.user_default.requests_per_window <= tier.tenant.requests_per_window  # type: ignore[operator]
        assert tier.user_default.usd_per_day <= tier.tenant.usd_per_day  # type: ignore[operator]
    assert pro.tenant.usd_per_day > free.tenant.usd_per_day  # type: ignore[operator]


def test_unknown_tenant_gets_default_tier() -> None:
    config = LimitsConfig()
    tenant, user = effective_limits(config, "nobody", "someone")
    assert tenant == config.tiers["free"].tenant
    assert user == config.tiers["free"].user_default


def test_merge_replaces_only_explicitly_set_fields() -> None:
    base = Limits(requests_per_window=10, tokens_per_window=1000, window_s=120, usd_per_day=5.0, usd_per_month=50.0)
    merged = merge_limits(base, Limits(tokens_per_window=99))
    # window_s was not set in the override, so the base's 120 survives (not the default 60)
    assert merged == Limits(
        requests_per_window=10, tokens_per_window=99, window_s=120, usd_per_day=5.0, usd_per_month=50.0
    )


def test_merge_explicit_none_removes_a_limit() -> None:
    base = Limits(requests_per_window=10, usd_per_day=5.0)
    merged = merge_limits(base, Limits.model_validate({"usd_per_day": None}))
    assert merged.usd_per_day is None
    assert merged.requests_per_window == 10


def test_merge_with_nothing_returns_base() -> None:
    base = Limits(requests_per_window=10)
    assert merge_limits(base, None) is base
    assert merge_limits(base, Limits()) is base


def test_layering_tier_tenant_user() -> None:
    config = LimitsConfig.model_validate(
        {
            "tiers": {
                "gold": {
                    "tenant": {"requests_per_window": 1000, "usd_per_day": 100.0, "usd_per_month": 1000.0},
                    "user_default": {
                        "requests_per_window": 100,
                        "tokens_per_window": 10_000,
                        "usd_per_day": 10.0,
                    },
                }
            },
            "default_tier": "gold",
            "tenants": {
                "acme": {
                    "tenant": {"usd_per_day": 200.0, "window_s": 30},
                    "user_default": {"tokens_per_window": 5_000},
                    "users": {"bob": {"requests_per_window": 3, "usd_per_day": None}},
                }
            },
        }
    )
    tenant, alice = effective_limits(config, "acme", "alice")
    assert tenant == Limits(requests_per_window=1000, usd_per_day=200.0, usd_per_month=1000.0, window_s=30)
    assert alice == Limits(requests_per_window=100, tokens_per_window=5_000, usd_per_day=10.0)
    _, bob = effective_limits(config, "acme", "bob")
    # bob: tier user_default <- tenant user_default <- bob's own override
    assert bob == Limits(requests_per_window=3, tokens_per_window=5_000, usd_per_day=None)


def test_tenant_tier_none_means_default_tier_and_explicit_tier_wins() -> None:
    config = LimitsConfig(
        tenants={"a": TenantPolicy(), "b": TenantPolicy(tier="pro", user_default=Limits(usd_per_day=2.0))}
    )
    assert effective_limits(config, "a", "u") == (
        config.tiers["free"].tenant,
        config.tiers["free"].user_default,
    )
    tenant_b, user_b = effective_limits(config, "b", "u")
    assert tenant_b == config.tiers["pro"].tenant
    assert user_b.usd_per_day == 2.0
    assert user_b.requests_per_window == config.tiers["pro"].user_default.requests_per_window


def test_validation_rejects_unknown_tiers_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="unknown tier"):
        LimitsConfig(tenants={"a": TenantPolicy(tier="platinum")})
    with pytest.raises(ValidationError, match="default_tier"):
        LimitsConfig(default_tier="platinum")
    with pytest.raises(ValidationError):
        Limits(window_s=0)
    with pytest.raises(ValidationError):
        Limits(requests_per_window=-1)
    with pytest.raises(ValidationError):
        Limits.model_validate({"requests_per_minute": 5})  # extra fields are forbidden (typos)
    with pytest.raises(ValidationError):
        Limits.model_validate({"usd_per_day": -1.0})


def test_models_are_frozen() -> None:
    limits = Limits()
    with pytest.raises(ValidationError):
        limits.window_s = 5  # type: ignore[misc]


def test_memo_is_per_config_and_does_not_affect_equality() -> None:
    def build(day: float) -> LimitsConfig:
        return LimitsConfig(
            tiers={"t": TierPolicy()},
            default_tier="t",
            tenants={"a": TenantPolicy(tenant=Limits(usd_per_day=day))},
        )

    one, same, other = build(1.0), build(1.0), build(2.0)
    assert effective_limits(one, "a", "u")[0].usd_per_day == 1.0
    assert effective_limits(other, "a", "u")[0].usd_per_day == 2.0
    assert effective_limits(one, "a", "u") is effective_limits(one, "a", "x")  # users without override share
    assert one == same  # the memo lives outside the model
    before = len(policy_module._MEMOS)
    del one, same, other
    gc.collect()
    assert len(policy_module._MEMOS) < before
