"""The one explicit map of input guards, and building the configured chain from settings."""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import ConfigError
from gateway.settings import Settings
from guards.base import Guard
from guards.response_format import ResponseFormatGuard
from guards.size import SizeGuard

GUARDS: dict[str, Callable[[Settings], Guard]] = {
    "size": lambda settings: SizeGuard(settings.guards),
    "response_format": lambda settings: ResponseFormatGuard(),
}


def build_guards(settings: Settings) -> tuple[Guard, ...]:
    """The guards named in ``settings.guards.enabled``, in that order."""
    unknown = [name for name in settings.guards.enabled if name not in GUARDS]
    if unknown:
        raise ConfigError(f"unknown guards {unknown}; known: {sorted(GUARDS)}")
    return tuple(GUARDS[name](settings) for name in settings.guards.enabled)
