"""A config file adds to the defaults: named entries overlay the built-in ones, `[remove]` drops them, typos fail.

The README's sample configuration is read out of README.md itself, so the sample and this test cannot drift.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway.catalog import DEFAULT_FALLBACKS, DEFAULT_MODELS
from gateway.errors import ConfigError
from gateway.limits.policy import effective_limits
from gateway.settings import Settings, load_settings
from streams.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
FREE_USER = load_settings().limits.tiers["free"].user_default


def readme_config_samples() -> list[str]:
    """Every ```toml block of the README's "## Configuration" section, in order."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```toml\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the variables it sets."""
    for name in list(os.environ):
        if name.startswith("STREAMGATE_"):
            monkeypatch.delenv(name)


def load_text(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "streamgate.toml"
    path.write_text(text)
    return load_settings(path)


def test_the_readme_has_its_two_samples() -> None:
    samples = readme_config_samples()
    assert len(samples) == 2 and "[limits.tenants.acme]" in samples[0] and "[remove]" in samples[1]


def test_the_readme_sample_loads_and_adds_to_the_defaults(tmp_path: Path) -> None:
    settings = load_text(tmp_path, readme_config_samples()[0])
    assert set(settings.models) == {*DEFAULT_MODELS, "o3", "my-model"}
    assert settings.models["my-model"].upstream == "gpt-4.1-mini"
    assert settings.models["o3"].context_window == 200_000  # from the price source: the sample gives none
    mine = settings.models["my-model"]
    assert mine.input_usd_per_mtok == 0.35 and mine.output_usd_per_mtok is None  # the rest: list prices
    assert settings.pricing.unknown_policy == "reserve" and settings.metrics.tenants == {"acme"}
    assert settings.resolve_model_name("fast") == "gpt-4o-mini"
    assert settings.resolve_model_name("best") == "gpt-4o"  # not in the sample's [aliases]
    assert set(settings.limits.tiers) == {"free", "pro"}
    assert settings.limits.tiers["free"].user_default == FREE_USER  # the sample sets only the tenant limits
    tenant, alice = effective_limits(settings.limits, "acme", "alice")
    assert tenant == settings.limits.tiers["pro"].tenant
    assert alice.usd_per_day == 20.0 and alice.requests_per_window == 600  # the rest from the pro tier
    assert settings.resilience.limits["gpt-4o"].rpm == 500
    assert set(settings.resilience.fallbacks) == set(DEFAULT_FALLBACKS)


def test_the_readme_removal_sample_removes_and_redefines(tmp_path: Path) -> None:
    settings = load_text(tmp_path, readme_config_samples()[1])
    assert "best" not in settings.aliases and settings.aliases["fast"] == "gpt-4o-mini"
    assert set(settings.limits.tiers) == {"free"}
    assert "gpt-4o-mini" not in settings.resilience.fallbacks and "gpt-4o" in settings.resilience.fallbacks
    haiku = settings.models["claude-3-5-haiku"]
    assert (haiku.upstream, haiku.max_output_tokens) == ("claude-haiku-4-5", 8192)  # afresh: the field default
    assert set(settings.models) == set(DEFAULT_MODELS)


def test_one_tier_field_keeps_the_tiers_other_fields(tmp_path: Path) -> None:
    settings = load_text(tmp_path, "[limits.tiers.free.tenant]\nusd_per_day = 10\n")
    free = settings.limits.tiers["free"]
    assert free.tenant.usd_per_day == 10.0 and free.tenant.requests_per_window == 600
    assert free.user_default == FREE_USER and "pro" in settings.limits.tiers


def test_a_partial_model_table_overlays_the_built_in_entry(tmp_path: Path) -> None:
    settings = load_text(tmp_path, '[models."gpt-4o"]\ninput_usd_per_mtok = 2.0\n')
    expected = DEFAULT_MODELS["gpt-4o"].model_copy(update={"input_usd_per_mtok": 2.0})
    assert settings.models["gpt-4o"] == expected and set(settings.models) == set(DEFAULT_MODELS)


def test_a_new_model_must_be_complete(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.new\.upstream: Field required"):
        load_text(tmp_path, '[models.new]\nprovider = "openai"\n')


def test_one_fallback_line_replaces_only_that_chain(tmp_path: Path) -> None:
    settings = load_text(tmp_path, '[resilience.fallbacks]\n"gpt-4o" = ["gpt-4o-mini"]\n')
    assert settings.resilience.fallbacks["gpt-4o"] == ["gpt-4o-mini"]
    assert settings.resilience.fallbacks["claude-sonnet-4"] == list(DEFAULT_FALLBACKS["claude-sonnet-4"])


def test_an_empty_table_removes_nothing(tmp_path: Path) -> None:
    settings = load_text(tmp_path, "[aliases]\n[resilience.fallbacks]\n")
    assert settings.aliases == load_settings().aliases
    assert settings.resilience.fallbacks == load_settings().resilience.fallbacks


def test_removing_a_model_that_is_still_named_elsewhere_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="alias 'best' points at unknown model 'gpt-4o'"):
        load_text(tmp_path, '[remove]\nmodels = ["gpt-4o"]\n')


def test_removing_a_tier_a_tenant_uses_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tenant 'acme' uses unknown tier 'pro'"):
        load_text(tmp_path, '[remove]\nlimits.tiers = ["pro"]\n[limits.tenants.acme]\ntier = "pro"\n')


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('aliases = ["quick"]', "remove.aliases names 'quick', which is not a built-in entry"),
        ('guards = ["size"]', "remove.guards is not a named map"),
        ('aliases = "best"', "remove.aliases must be a list of entry names"),
    ],
)
def test_a_bad_removal_is_an_error(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_text(tmp_path, f"[remove]\n{table}\n")


def test_a_misspelt_top_level_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'partitons' \(did you mean 'partitions'\?\)"):
        load_text(tmp_path, "partitons = 3\n")


def test_a_misspelt_key_in_a_section_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"guards\.max_mesages: Extra inputs are not permitted"):
        load_text(tmp_path, "[guards]\nmax_mesages = 3\n")


def test_malformed_toml_is_one_line_naming_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('partitions = 3\ndefault_model = "gpt-4o\n')
    with pytest.raises(ConfigError, match=rf"config file {re.escape(str(path))}: invalid TOML: .*line 2"):
        load_settings(path)
    assert main(["--config", str(path), "topology"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"streamgate: config file {path}: invalid TOML") and err.count("\n") == 1


def test_the_environment_overrides_the_file_inside_a_named_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGATE_LIMITS__TIERS__FREE__TENANT__USD_PER_DAY", "7")
    settings = load_text(tmp_path, "[limits.tiers.free.tenant]\nusd_per_day = 10\nusd_per_month = 80\n")
    free = settings.limits.tiers["free"]
    assert (free.tenant.usd_per_day, free.tenant.usd_per_month) == (7.0, 80.0) and free.user_default == FREE_USER


def test_streamgate_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.toml"
    path.write_text("partitions = 3\n")
    monkeypatch.setenv("STREAMGATE_CONFIG", str(path))
    assert load_settings().partitions == 3
    other = tmp_path / "explicit.toml"
    other.write_text("partitions = 5\n")
    assert load_settings(other).partitions == 5  # --config wins over STREAMGATE_CONFIG
    monkeypatch.setenv("STREAMGATE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml does not exist"):
        load_settings()
