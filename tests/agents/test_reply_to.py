"""reply_to rules: only the results topic, configured names and an existing prefixed topic; never an internal one."""

from __future__ import annotations

import pytest

from agents.reply_to import reply_to_refusal, reply_topic_allowed, reply_topic_for
from gateway.errors import ConfigError
from gateway.settings import Settings
from schemas.codes import ErrorCode

SETTINGS = Settings()
INTERNAL = [
    "llm.requests",
    "llm.usage",
    "llm.dlq",
    "streamgate.admit",
    "streamgate.settle",
    "streamgate-requests-changelog",
    "streamgate-usage-changelog",
    "streamgate-__assignor-__leader",
    "__consumer_offsets",
]


@pytest.mark.parametrize("name", INTERNAL)
def test_every_internal_topic_is_refused(name: str) -> None:
    assert not reply_topic_allowed(name, SETTINGS)
    refusal = reply_to_refusal(name, SETTINGS, existing={name})
    assert refusal is not None and refusal.code == ErrorCode.INVALID_REQUEST
    assert "not a reply topic" in refusal.message and "'llm.results'" in refusal.message
    assert reply_topic_for(name, SETTINGS) == "llm.results"


def test_the_results_topic_and_no_reply_to_are_always_fine() -> None:
    assert reply_to_refusal(None, SETTINGS, existing=()) is None
    assert reply_to_refusal("llm.results", SETTINGS, existing=()) is None
    assert SETTINGS.topics.reply_topics == ("llm.results",)


def test_the_prefix_allows_existing_topics_only() -> None:
    assert reply_topic_allowed("llm.results.mine", SETTINGS)
    assert not reply_topic_allowed("llm.results.", SETTINGS)  # the bare prefix names no one
    assert not reply_topic_allowed("orders.llm-results", SETTINGS)
    assert reply_to_refusal("llm.results.mine", SETTINGS, existing={"llm.results.mine"}) is None
    missing = reply_to_refusal("llm.results.gone", SETTINGS, existing={"llm.results.mine"})
    assert missing is not None and missing.code == ErrorCode.INVALID_REQUEST and "does not exist" in missing.message


def test_configured_names_and_prefix_are_honoured() -> None:
    settings = Settings(topics={"reply_topics": ["orders.llm-results"], "reply_topic_prefix": "team."})
    assert reply_topic_allowed("orders.llm-results", settings)
    assert reply_topic_allowed("team.a", settings)
    assert reply_topic_allowed("llm.results", settings)  # the results topic stays a reply topic
    assert not reply_topic_allowed("llm.results.mine", settings)


def test_an_empty_prefix_allows_no_prefixed_topics() -> None:
    settings = Settings(topics={"reply_topic_prefix": ""})
    assert not reply_topic_allowed("llm.results.mine", settings)
    assert not reply_topic_allowed("anything", settings)


def test_the_default_allow_list_follows_a_renamed_results_topic() -> None:
    settings = Settings(topics={"results": "acme.results", "reply_topic_prefix": "acme.results."})
    assert settings.topics.reply_topics == ("acme.results",)
    assert reply_topic_for(None, settings) == "acme.results"


@pytest.mark.parametrize("name", INTERNAL)
def test_config_cannot_allow_an_internal_topic_by_name(name: str) -> None:
    with pytest.raises(ConfigError, match="internal topics"):
        Settings(topics={"reply_topics": [name]})


@pytest.mark.parametrize("prefix", ["llm.", "l", "streamgate", "streamgate-", "streamgate-usage-", "_", "__x"])
def test_config_cannot_allow_internal_topics_by_prefix(prefix: str) -> None:
    with pytest.raises(ConfigError, match="reaches internal topics"):
        Settings(topics={"reply_topic_prefix": prefix})


def test_internal_names_follow_the_app_id_and_renamed_topics() -> None:
    settings = Settings(app_id="gw", topics={"usage": "acme.usage"})
    assert not reply_topic_allowed("gw-requests-changelog", settings)
    assert not reply_topic_allowed("acme.usage", settings)
    with pytest.raises(ConfigError):
        Settings(app_id="gw", topics={"reply_topics": ["gw-usage-changelog"]})
