"""The dev stack's simulator serves only the providers the settings leave unconfigured."""

from __future__ import annotations

from pathlib import Path

from gateway.providers.registry import PROVIDER_ENDPOINTS, PROVIDER_FACTORIES, ProviderEndpoint
from gateway.settings import Settings
from streams.devtools.dev import DevStack
from streams.devtools.provider_routes import (
    SIMULATOR_ENV,
    describe_routes,
    plan_routes,
    routes_of,
    simulator_env,
)

SIM = "http://127.0.0.1:9999"


def _bare(**fields: object) -> Settings:
    """Settings with no provider configured except ``fields`` (the test environment may set provider vars)."""
    empty: dict[str, object] = {
        "openai_api_key": None,
        "openai_base_url": None,
        "anthropic_api_key": None,
        "anthropic_base_url": None,
    }
    return Settings(**{**empty, **fields})


def test_every_registered_provider_has_an_endpoint_and_a_simulator_env() -> None:
    assert set(PROVIDER_ENDPOINTS) == set(PROVIDER_FACTORIES) == set(SIMULATOR_ENV)


def test_the_decision_is_per_provider() -> None:
    routes = plan_routes(
        {
            "openai": ProviderEndpoint(base_url="http://127.0.0.1:8000/v1", configured=True),
            "anthropic": ProviderEndpoint(base_url="https://api.anthropic.com", configured=False),
        }
    )
    assert not routes["openai"].simulated
    assert routes["anthropic"].simulated


def test_nothing_configured_sends_everything_to_the_simulator() -> None:
    routes = routes_of(_bare())
    assert all(route.simulated for route in routes.values())
    assert simulator_env(routes, SIM) == {
        "OPENAI_BASE_URL": f"{SIM}/v1",
        "OPENAI_API_KEY": "sk-simulator",
        "ANTHROPIC_BASE_URL": SIM,
        "ANTHROPIC_API_KEY": "simulator",
    }


def test_a_local_base_url_keeps_its_provider_off_the_simulator() -> None:
    routes = routes_of(_bare(openai_base_url="http://127.0.0.1:8000/v1", openai_api_key="sk-local"))
    assert not routes["openai"].simulated
    assert routes["openai"].endpoint.base_url == "http://127.0.0.1:8000/v1"
    env = simulator_env(routes, SIM)
    assert "OPENAI_BASE_URL" not in env and "OPENAI_API_KEY" not in env
    assert env["ANTHROPIC_BASE_URL"] == SIM


def test_a_key_alone_or_a_base_url_alone_counts_as_configured() -> None:
    assert not routes_of(_bare(anthropic_api_key="sk-ant-real"))["anthropic"].simulated
    assert routes_of(_bare(anthropic_api_key="sk-ant-real"))["anthropic"].endpoint.base_url.startswith("https://")
    assert not routes_of(_bare(openai_base_url="http://127.0.0.1:11434/v1"))["openai"].simulated
    assert routes_of(_bare(openai_api_key=""))["openai"].simulated  # an empty variable is no configuration


def test_the_simulator_runs_only_while_some_provider_needs_it(tmp_path: Path) -> None:
    some = DevStack(_bare(openai_api_key="sk-real"), log_dir=tmp_path)
    assert some.needs_simulator
    every = DevStack(_bare(openai_api_key="sk-real", anthropic_base_url="http://127.0.0.1:1"), log_dir=tmp_path)
    assert not every.needs_simulator


def test_the_description_names_each_provider_endpoint_and_never_a_key() -> None:
    routes = routes_of(_bare(openai_base_url="http://127.0.0.1:8000/v1", openai_api_key="sk-very-secret"))
    described = describe_routes(routes, SIM)
    assert described == {"openai": "http://127.0.0.1:8000/v1 (configured)", "anthropic": f"simulator {SIM}"}
    assert "sk-very-secret" not in str(described)
