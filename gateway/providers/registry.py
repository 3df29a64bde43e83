"""The one explicit map from provider name to adapter factory, and :func:`build_providers`.

Credentials and base URLs come only from :class:`~gateway.settings.Settings` (which honours
``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``); nothing here reads
the environment.
"""

from __future__ import annotations

from typing import Protocol

from gateway.providers.anthropic_provider import AnthropicProvider
from gateway.providers.base import Provider
from gateway.providers.openai_provider import OpenAIProvider
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
