"""choose_route: explicit model, alias or default, and the fallback chain from settings."""

from __future__ import annotations

from agents.job import RoutePlan
from agents.route import choose_route
from gateway.resilience.chain import ChainLink, Route
from gateway.resilience.config import ResilienceSettings
from gateway.settings import Settings, load_settings
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from tests.support.factories import make_request

SETTINGS = load_settings()


def route_of(model: str | None, settings: Settings = SETTINGS) -> Route:
    plan = choose_route(make_request(model=model), settings)
    assert isinstance(plan, RoutePlan) and len(plan.steps) == 1, plan
    return plan.first


def models(route: Route) -> list[str]:
    return [link.model for link in route.chain]


def test_an_explicit_model_comes_first_with_its_default_fallbacks() -> None:
    route = route_of("gpt-4o")
    assert route.primary == ChainLink(model="gpt-4o", provider="openai", upstream="gpt-4o")
    assert route.chain[1] == ChainLink(
        model="claude-sonnet-4", provider="anthropic", upstream="claude-sonnet-4-20250514"
    )
    assert models(route) == ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini"]


def test_an_alias_resolves_to_its_model() -> None:
    assert route_of("smart") == route_of("claude-sonnet-4")
    assert route_of("fast").primary.model == "gpt-4o-mini"


def test_no_model_means_the_configured_default() -> None:
    assert route_of(None) == route_of("gpt-4o-mini")
    claude_default = load_settings(default_model="claude-3-5-haiku")
    assert route_of(None, claude_default).primary.upstream == "claude-3-5-haiku-latest"


def test_an_unknown_model_is_model_not_found() -> None:
    error = choose_route(make_request(model="gpt-17"), SETTINGS)
    assert isinstance(error, ErrorInfo) and error.code is ErrorCode.MODEL_NOT_FOUND
    assert "gpt-17" in error.message


def test_a_default_model_given_as_an_alias_is_resolved() -> None:
    settings = load_settings(aliases={"house": "gpt-4o"}, default_model="house")
    assert route_of(None, settings).primary.model == "gpt-4o"


def test_the_fallback_chain_comes_from_settings() -> None:
    settings = load_settings(resilience=ResilienceSettings(fallbacks={"gpt-4o": ["claude-3-5-haiku", "gpt-4o"]}))
    assert models(route_of("gpt-4o", settings)) == ["gpt-4o", "claude-3-5-haiku"]  # no duplicate of itself
    assert models(route_of("gpt-4o-mini", settings)) == ["gpt-4o-mini"]  # no fallbacks configured
