"""Settings: defaults < TOML file < environment < keyword overrides; standard env names; validation; frozen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.settings import Settings, load_settings

STANDARD = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "REDIS_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
)
TOML = """
redis_url = "redis://from-file:6379/1"
default_model = "gpt-4o"
partitions = 3

[resilience]
attempt_timeout_s = 5.0
max_request_s = 50.0

[guards]
max_messages = 7
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the variables it sets."""
    for name in list(os.environ):
        if name.startswith("STREAMGATE_") or name in STANDARD:
            monkeypatch.delenv(name)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "streamgate.toml"
    path.write_text(TOML)
    return path


def test_defaults_need_no_environment() -> None:
    settings = load_settings()
    assert settings.kafka_bootstrap_servers is None and settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.openai_api_key is None and settings.default_model == "gpt-4o-mini"


def test_the_standard_variable_names_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6380/2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai.local/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://anthropic.local")
    settings = load_settings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.redis_url == "redis://cache:6380/2"
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-openai-test"
    assert settings.openai_base_url == "http://openai.local/v1"
    assert settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value() == "sk-ant-test"
    assert settings.anthropic_base_url == "http://anthropic.local"


def test_secrets_are_not_shown_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    assert "sk-very-secret" not in repr(load_settings())


def test_prefixed_variables_work_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGATE_REDIS_URL", "redis://prefixed:6379/0")
    monkeypatch.setenv("STREAMGATE_MAX_IN_FLIGHT", "64")
    settings = load_settings()
    assert settings.redis_url == "redis://prefixed:6379/0" and settings.max_in_flight == 64


def test_nested_settings_use_a_double_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGATE_RESILIENCE__ATTEMPT_TIMEOUT_S", "12.5")
    monkeypatch.setenv("STREAMGATE_TOPICS__RESULTS", "team.results")
    settings = load_settings()
    assert settings.resilience.attempt_timeout_s == 12.5
    assert settings.resilience.max_request_s == 120.0  # siblings keep their defaults
    assert settings.topics.results == "team.results" and settings.topics.requests == "llm.requests"


def test_a_toml_file_sets_values(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert isinstance(settings, Settings)
    assert settings.redis_url == "redis://from-file:6379/1" and settings.default_model == "gpt-4o"
    assert settings.partitions == 3 and settings.guards.max_messages == 7
    assert (settings.resilience.attempt_timeout_s, settings.resilience.max_request_s) == (5.0, 50.0)


def test_the_environment_overrides_the_file_key_by_key(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")
    monkeypatch.setenv("STREAMGATE_RESILIENCE__ATTEMPT_TIMEOUT_S", "9")
    settings = load_settings(config_file)
    assert settings.redis_url == "redis://from-env:6379/0"
    assert settings.resilience.attempt_timeout_s == 9.0
    assert settings.resilience.max_request_s == 50.0  # still from the file: nested tables merge
    assert settings.default_model == "gpt-4o"


def test_keyword_overrides_win_over_everything(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGATE_DEFAULT_MODEL", "claude-sonnet-4")
    assert load_settings(config_file, default_model="fast").default_model == "fast"


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_an_alias_to_an_unknown_model_is_refused() -> None:
    with pytest.raises(ConfigError, match="alias 'house' points at unknown model 'gpt-17'"):
        load_settings(aliases={"house": "gpt-17"})


def test_an_unknown_default_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGATE_DEFAULT_MODEL", "gpt-17")
    with pytest.raises(ConfigError, match="default_model 'gpt-17'"):
        load_settings()


def test_an_out_of_range_value_is_one_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGATE_PARTITIONS", "0")
    with pytest.raises(ConfigError, match="invalid settings: partitions: Input should be greater than or equal to 1"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError, match="frozen"):
        settings.redis_url = "redis://elsewhere"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        settings.resilience.attempt_timeout_s = 1.0  # type: ignore[misc]


def test_model_spec_resolves_names_and_aliases() -> None:
    settings = load_settings()
    assert settings.model_spec("fast") == settings.model_spec("gpt-4o-mini")
    assert settings.resolve_model_name("unknown") is None
    with pytest.raises(ConfigError, match="unknown model 'unknown'"):
        settings.model_spec("unknown")


def test_a_dead_letter_bound_that_cannot_fit_a_producer_request_is_refused() -> None:
    with pytest.raises(ConfigError, match="max_dead_letter_bytes"):
        Settings(max_dead_letter_bytes=2 * 1024 * 1024)
    assert Settings().max_dead_letter_bytes * 4 // 3 < Settings().producer_max_request_size
