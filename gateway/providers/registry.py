"""The one explicit map from provider name to adapter factory, and :func:`build_providers`.

Credentials and base URLs come only from :class:`~gateway.settings.Settings` (which honours
``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``); nothing here reads
the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from gateway.providers.anthropic_provider import ANTHROPIC_DEFAULT_BASE_URL, AnthropicProvider
from gateway.providers.base import Provider
from gateway.providers.openai_provider import OPENAI_DEFAULT_BASE_URL, OpenAIProvider
from gateway.settings import Settings


class ProviderFactory(Protocol):
    """Builds one provider from the settings: usable as a ``Callable[[Settings], Provider]``.

    ``max_connections`` sizes the provider's connection pool; it defaults to ``settings.max_in_flight``.
    """

    def __call__(self, settings: Settings, /, *, max_connections: int | None = None) -> Provider:
        """Build the provider."""
        ...


def build_openai(settings: Settings, /, *, max_connections: int | None = None) -> Provider:
    """The OpenAI provider from ``settings.openai_api_key`` / ``settings.openai_base_url``."""
    key = settings.openai_api_key
    return OpenAIProvider(
        name="openai",
        api_key=key.get_secret_value() if key is not None else None,
        base_url=settings.openai_base_url,
        max_connections=settings.max_in_flight if max_connections is None else max_connections,
    )


def build_anthropic(settings: Settings, /, *, max_connections: int | None = None) -> Provider:
    """The Anthropic provider from ``settings.anthropic_api_key`` / ``settings.anthropic_base_url``."""
    key = settings.anthropic_api_key
    return AnthropicProvider(
        name="anthropic",
        api_key=key.get_secret_value() if key is not None else None,
        base_url=settings.anthropic_base_url,
        max_connections=settings.max_in_flight if max_connections is None else max_connections,
    )


PROVIDER_FACTORIES: dict[str, ProviderFactory] = {
    "openai": build_openai,
    "anthropic": build_anthropic,
}
"""Every provider the gateway can call, by the name :class:`~gateway.catalog.ModelSpec.provider` uses."""


def build_providers(settings: Settings, *, max_connections: int) -> dict[str, Provider]:
    """Build every provider in :data:`PROVIDER_FACTORIES`, each with a pool of ``max_connections``.

    Never fails for missing credentials: such a provider answers each call with ``ProviderAuthError``.
    """
    return {name: build(settings, max_connections=max_connections) for name, build in PROVIDER_FACTORIES.items()}


@dataclass(frozen=True)
class ProviderEndpoint:
    """Where the settings send one provider's calls, and whether they configure it at all (never the key)."""

    base_url: str
    configured: bool
    """True when the settings give the provider an API key or a base URL."""


def _endpoint(key: SecretStr | None, base_url: str | None, default_base_url: str) -> ProviderEndpoint:
    has_key = key is not None and bool(key.get_secret_value())
    return ProviderEndpoint(base_url=base_url or default_base_url, configured=has_key or bool(base_url))


def openai_endpoint(settings: Settings) -> ProviderEndpoint:
    """The OpenAI endpoint from ``settings.openai_api_key`` / ``settings.openai_base_url``."""
    return _endpoint(settings.openai_api_key, settings.openai_base_url, OPENAI_DEFAULT_BASE_URL)


def anthropic_endpoint(settings: Settings) -> ProviderEndpoint:
    """The Anthropic endpoint from ``settings.anthropic_api_key`` / ``settings.anthropic_base_url``."""
    return _endpoint(settings.anthropic_api_key, settings.anthropic_base_url, ANTHROPIC_DEFAULT_BASE_URL)


PROVIDER_ENDPOINTS: dict[str, Callable[[Settings], ProviderEndpoint]] = {
    "openai": openai_endpoint,
    "anthropic": anthropic_endpoint,
}
"""What the settings configure for each provider of :data:`PROVIDER_FACTORIES` (same names)."""
