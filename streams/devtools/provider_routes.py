"""Which provider the dev stack's simulator serves: only those the settings leave unconfigured.

A configured API key or base URL always wins, per provider: ``OPENAI_BASE_URL`` pointing at a local vLLM, Ollama or
company proxy keeps every OpenAI call there, while an unconfigured Anthropic is served by the simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.providers.registry import PROVIDER_ENDPOINTS, ProviderEndpoint
from gateway.settings import Settings

SIMULATOR_ENV: dict[str, Callable[[str], dict[str, str]]] = {
    "openai": lambda url: {"OPENAI_BASE_URL": f"{url}/v1", "OPENAI_API_KEY": "sk-simulator"},
    "anthropic": lambda url: {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "simulator"},
}
"""The worker environment that points one provider at the simulator listening on ``url``."""


@dataclass(frozen=True)
class ProviderRoute:
    """Where one provider's calls go in the dev stack: its configured endpoint, or the simulator."""

    provider: str
    endpoint: ProviderEndpoint

    @property
    def simulated(self) -> bool:
        """True when the simulator serves this provider (the settings configure neither key nor base URL)."""
        return not self.endpoint.configured


def plan_routes(endpoints: Mapping[str, ProviderEndpoint]) -> dict[str, ProviderRoute]:
    """Each provider to its configured endpoint, or to the simulator when it has no configuration."""
    return {name: ProviderRoute(name, endpoint) for name, endpoint in endpoints.items()}


def routes_of(settings: Settings) -> dict[str, ProviderRoute]:
    """:func:`plan_routes` for every registered provider, from ``settings``."""
    return plan_routes({name: endpoint(settings) for name, endpoint in PROVIDER_ENDPOINTS.items()})


def simulator_env(routes: Mapping[str, ProviderRoute], simulator_url: str) -> dict[str, str]:
    """Environment overrides that send only the simulated providers to the simulator at ``simulator_url``."""
    env: dict[str, str] = {}
    for route in routes.values():
        if route.simulated:
            env.update(SIMULATOR_ENV[route.provider](simulator_url))
    return env


def describe_routes(routes: Mapping[str, ProviderRoute], simulator_url: str | None) -> dict[str, str]:
    """Provider -> where its calls go, for people (never a key)."""
    return {
        name: f"simulator {simulator_url}" if route.simulated else f"{route.endpoint.base_url} (configured)"
        for name, route in routes.items()
    }
