"""Task tiers, cascades, tenant overrides and allow-lists: which models a request is routed to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agents.job import RoutePlan
from agents.route import choose_route
from gateway.errors import ConfigError
from gateway.resilience.config import ResilienceSettings
from gateway.routing.config import RoutingSettings
from gateway.settings import Settings, load_settings
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from tests.support.factories import make_request

ROUTING = RoutingSettings.model_validate(
    {
        "tiers": {"small": "gpt-4o-mini", "large": "gpt-4o"},
        "tasks": {"classify": {"tier": "small"}, "extract": {"cascade": ["gpt-4o-mini", "gpt-4o"]}},
        "tenants": {
            "acme": {"allowed_models": ["gpt-4o-mini", "claude-3-5-haiku"]},
            "globex": {"tiers": {"small": "claude-3-5-haiku"}, "tasks": {"summarise": {"tier": "large"}}},
        },
    }
)
SETTINGS = load_settings(routing=ROUTING)


def plan(settings: Settings = SETTINGS, **fields: Any) -> RoutePlan:
    routed = choose_route(make_request(**fields), settings)
    assert isinstance(routed, RoutePlan), routed
    return routed


def refusal(**fields: Any) -> ErrorInfo:
    routed = choose_route(make_request(**fields), SETTINGS)
    assert isinstance(routed, ErrorInfo), routed
    return routed


def chain(routed: RoutePlan, step: int = 0) -> list[str]:
    return [link.model for link in routed.steps[step].chain]


def test_a_task_goes_to_its_tiers_model() -> None:
    assert plan(tenant="initech", task="classify").models == ("gpt-4o-mini",)
    assert plan(tenant="initech", task="general").models == ("gpt-4o-mini",)  # no entry: default_model


def test_a_cascade_task_gets_one_step_per_model_each_with_its_fallbacks() -> None:
    routed = plan(tenant="initech", task="extract")
    assert routed.models == ("gpt-4o-mini", "gpt-4o") and routed.is_cascade
    assert chain(routed, 0) == ["gpt-4o-mini", "claude-3-5-haiku"]
    assert chain(routed, 1) == ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini"]


def test_a_tenant_overrides_tiers_and_tasks() -> None:
    assert plan(tenant="globex", task="classify").models == ("claude-3-5-haiku",)
    assert plan(tenant="globex", task="summarise").models == ("gpt-4o",)
    assert plan(tenant="initech", task="summarise").models == ("gpt-4o-mini",)


def test_an_explicit_model_wins_over_the_task() -> None:
    assert plan(tenant="initech", task="classify", model="best").models == ("gpt-4o",)
    assert not plan(tenant="initech", task="extract", model="gpt-4o").is_cascade


def test_an_explicit_model_outside_the_allow_list_is_model_not_allowed() -> None:
    error = refusal(tenant="acme", model="gpt-4o")
    assert error.code is ErrorCode.MODEL_NOT_ALLOWED and "gpt-4o" in error.message
    assert refusal(tenant="acme", model="gpt-17").code is ErrorCode.MODEL_NOT_FOUND
    assert plan(tenant="acme", model="claude-3-5-haiku").models == ("claude-3-5-haiku",)


def test_the_allow_list_prunes_fallbacks_and_cascade_steps() -> None:
    assert chain(plan(tenant="acme", model="gpt-4o-mini")) == ["gpt-4o-mini", "claude-3-5-haiku"]
    assert chain(plan(tenant="acme", model="claude-3-5-haiku")) == ["claude-3-5-haiku", "gpt-4o-mini"]
    extract = plan(tenant="acme", task="extract")
    assert extract.models == ("gpt-4o-mini",)  # gpt-4o is not acme's to use


def test_a_task_whose_every_model_is_disallowed_is_model_not_allowed() -> None:
    settings = load_settings(
        routing={"tasks": {"reason": {"tier": "large"}}, "tenants": {"acme": {"allowed_models": ["gpt-4o-mini"]}}}
    )
    routed = choose_route(make_request(tenant="acme", task="reason"), settings)
    assert isinstance(routed, ErrorInfo) and routed.code is ErrorCode.MODEL_NOT_ALLOWED


def test_a_disallowed_default_model_falls_to_the_first_allowed_one() -> None:
    settings = load_settings(routing={"tenants": {"acme": {"allowed_models": ["claude-3-5-haiku"]}}})
    assert plan(settings, tenant="acme").models == ("claude-3-5-haiku",)


def test_fallback_chains_still_come_from_resilience_settings() -> None:
    settings = load_settings(
        routing=ROUTING, resilience=ResilienceSettings(fallbacks={"gpt-4o-mini": ["claude-sonnet-4"]})
    )
    assert chain(plan(settings, tenant="initech", task="extract")) == ["gpt-4o-mini", "claude-sonnet-4"]


@pytest.mark.parametrize(
    "routing",
    [
        {"tiers": {"small": "gpt-17"}},
        {"tasks": {"extract": {"cascade": ["gpt-4o-mini", "nope"]}}},
        {"tenants": {"acme": {"allowed_models": ["fast"]}}},  # allow-lists name catalog models, not aliases
        {"tasks": {"x": {"tier": "small", "cascade": ["gpt-4o"]}}},
    ],
)
def test_bad_routing_config_fails_at_start_up(routing: dict[str, Any]) -> None:
    with pytest.raises((ConfigError, ValueError)):
        load_settings(routing=routing)


def test_the_readme_routing_sample_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## Routing, cascades and prompts\n", 1)[1].split("\n## ", 1)[0]
    sample = re.findall(r"^```toml\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)[0]
    (tmp_path / "streamgate.toml").write_text(sample)
    settings = load_settings(tmp_path / "streamgate.toml")
    assert settings.routing.task_for("initech", "extract").cascade == ("gpt-4o-mini", "gpt-4o")
    assert settings.routing.task_for("acme", "summarise").tier == "large"
    assert settings.routing.tiers_for("acme")["large"] == "claude-3-5-haiku"
    assert settings.prompts["summarise"].split == {"2": 0.9, "3": 0.1}
    routed = choose_route(make_request(tenant="acme", task="summarise"), settings)
    assert isinstance(routed, RoutePlan) and routed.models == ("claude-3-5-haiku",)
