"""Fallback chains: the links a request may be served by (its :class:`Route`), and what a successful chain run
returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.catalog import ModelSpec
from gateway.errors import ConfigError
from gateway.providers.base import Completion
from gateway.resilience.config import ResilienceSettings
from schemas.result import Attempt


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One link of a fallback chain: a catalog model, the provider serving it and its upstream name."""

    model: str
    provider: str
    upstream: str


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes: the primary link first, then its fallbacks.

    ``drop_turns`` is how many of the oldest turns are left out so the prompt fits this chain's windows
    (:func:`gateway.context_window.drop_oldest_turns`).
    """

    chain: tuple[ChainLink, ...]
    drop_turns: int = 0

    @property
    def primary(self) -> ChainLink:
        """The first choice."""
        return self.chain[0]


@dataclass(frozen=True, slots=True)
class ResilientResult:
    """A successful completion, the link that produced it (``link_index`` 0 is the requested model) and the
    log of every attempt made, skipped links included."""

    completion: Completion
    link: ChainLink
    link_index: int
    attempts: list[Attempt]

    @property
    def fallback_used(self) -> bool:
        """Whether a fallback rather than the requested model answered."""
        return self.link_index > 0


def build_chain(model: str, catalog: Mapping[str, ModelSpec], settings: ResilienceSettings) -> list[ChainLink]:
    """A catalog model's chain: itself, then its configured fallbacks; unknown names raise ConfigError."""
    chain = []
    for name in settings.fallback_models(model):
        spec = catalog.get(name)
        if spec is None:
            raise ConfigError(f"model {name!r} in the fallback chain of {model!r} is not in the catalog")
        chain.append(ChainLink(model=name, provider=spec.provider, upstream=spec.upstream))
    return chain
