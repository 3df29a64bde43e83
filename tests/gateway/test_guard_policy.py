"""Per-tenant guard policy: defaults in [guards], overrides in [guards.tenants.<name>]."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.guard_policy import GuardPolicy, TenantGuardPolicy
from gateway.settings import GuardSettings, load_settings


def test_defaults_redact_in_and_out_without_restoring() -> None:
    policy = GuardSettings().policy_for("anyone")
    assert (policy.pii_input, policy.pii_restore, policy.pii_output, policy.injection) == (
        "redact",
        False,
        "redact",
        "block",
    )


def test_a_tenant_overrides_only_what_it_sets(tmp_path: Path) -> None:
    config = tmp_path / "g.toml"
    config.write_text(
        '[guards]\npii_output = "allow"\ndeny_topics = ["salary"]\n'
        '[guards.tenants.acme]\npii_input = "block"\npii_restore = true\n'
    )
    guards = load_settings(config).guards
    acme = guards.policy_for("acme")
    assert acme.pii_input == "block" and acme.pii_restore and acme.pii_output == "allow"
    assert acme.deny_topics == ("salary",)
    assert guards.policy_for("other").pii_input == "redact"


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        GuardPolicy(pii_input="mask")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        TenantGuardPolicy(deny_patterns=("(unclosed",))
    with pytest.raises(ValidationError):
        GuardSettings(tenants={"t": {"pii_output": "hide"}})  # type: ignore[dict-item]
