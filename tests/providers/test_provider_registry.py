"""Building the adapters from :class:`Settings`: the explicit factory map, placeholder keys, missing keys."""

from __future__ import annotations

import typing

import pytest

from gateway.catalog import DEFAULT_MODELS, ProviderName
from gateway.errors import ProviderAuthError
from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import CompletionCall, Provider
from gateway.providers.openai_provider import OpenAIProvider
from gateway.providers.registry import PROVIDER_FACTORIES, build_providers
from gateway.settings import Settings
from gateway.simulator.server import SimulatorServer

_ENV = [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "STREAMGATE_OPENAI_API_KEY",
    "STREAMGATE_OPENAI_BASE_URL",
    "STREAMGATE_ANTHROPIC_API_KEY",
    "STREAMGATE_ANTHROPIC_BASE_URL",
]


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def _call(provider: str) -> CompletionCall:
    model = next(spec.upstream for spec in DEFAULT_MODELS.values() if spec.provider == provider)
    return CompletionCall(
        model=model,
        messages=[{"role": "user", "content": "Hello there."}],
        max_tokens=32,
        timeout_s=5,
        idempotency_key=f"registry-{provider}",
    )


def test_factories_cover_every_catalog_provider() -> None:
    assert set(PROVIDER_FACTORIES) == set(typing.get_args(ProviderName))


async def test_build_from_settings_with_base_urls_only_uses_placeholder_keys(sim: SimulatorServer) -> None:
    """A simulator/proxy base URL without keys: a placeholder key is sent; the simulator's auth passes."""
    sim.reset()
    settings = Settings(openai_base_url=sim.openai_base_url, anthropic_base_url=sim.anthropic_base_url)
    providers = build_providers(settings, max_connections=8)
    try:
        assert set(providers) == {"openai", "anthropic"}
        assert isinstance(providers["openai"], OpenAIProvider)
        assert isinstance(providers["anthropic"], AnthropicProvider)
        for name, provider in providers.items():
            assert isinstance(provider, Provider)
            assert provider.name == name
            result = await provider.complete(_call(name))
            assert result.text and result.provider == name
            assert sim.stats.calls_for(f"registry-{name}") == 1
    finally:
        for provider in providers.values():
            await provider.aclose()


async def test_build_from_settings_with_keys(sim: SimulatorServer) -> None:
    settings = Settings(
        openai_api_key="sk-test",
        openai_base_url=sim.openai_base_url,
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=sim.anthropic_base_url,
    )
    for name, factory in PROVIDER_FACTORIES.items():
        provider = factory(settings)  # usable as a plain Callable[[Settings], Provider]
        try:
            assert (await provider.complete(_call(name))).text
        finally:
            await provider.aclose()


async def test_standard_env_variables_reach_the_provider(sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``OPENAI_BASE_URL`` etc. are read by Settings (never by the adapters) and passed on explicitly."""
    monkeypatch.setenv("OPENAI_BASE_URL", sim.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", sim.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    providers = build_providers(Settings(), max_connections=4)
    try:
        for name, provider in providers.items():
            assert (await provider.complete(_call(name))).text
    finally:
        for provider in providers.values():
            await provider.aclose()


async def test_missing_keys_build_but_every_call_is_an_auth_error() -> None:
    providers = build_providers(Settings(), max_connections=4)
    try:
        for name, provider in providers.items():
            call = _call(name)
            with pytest.raises(ProviderAuthError, match="no API key configured") as info:
                await provider.complete(call)
            assert info.value.provider == name
            assert info.value.model == call.model
            assert not info.value.retryable and info.value.allow_fallback
    finally:
        for provider in providers.values():
            await provider.aclose()


def test_invalid_pool_size_is_refused() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        OpenAIProvider(api_key="k", max_connections=0)
