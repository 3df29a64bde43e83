"""The one explicit map of guards, and building the configured ones from settings (each built once)."""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import ConfigError
from gateway.settings import Settings
from guards.base import Guard, GuardStage
from guards.response_format import ResponseFormatGuard
from guards.size import SizeGuard


# The content and output guards import guardrails-ai, Presidio or the model only when built: a process that
# never builds them (the simulator, the CLI) does not pay ~5 s of imports.
def _deny(settings: Settings) -> Guard:
    from guards.deny import DenyGuard

    return DenyGuard()


def _injection(settings: Settings) -> Guard:
    from guards.injection_guard import InjectionGuard

    return InjectionGuard()


def _pii(settings: Settings) -> Guard:
    from guards.pii_guard import PiiInputGuard

    return PiiInputGuard()


def _pii_output(settings: Settings) -> Guard:
    from guards.pii_guard import PiiOutputGuard

    return PiiOutputGuard(stream_window=settings.guards.stream_window_chars)


GUARDS: dict[str, Callable[[Settings], Guard]] = {
    "size": lambda settings: SizeGuard(settings.guards),
    "response_format": lambda settings: ResponseFormatGuard(),
    "deny": _deny,
    "injection": _injection,
    "pii": _pii,
    "pii_output": _pii_output,
}


def build_guards(settings: Settings) -> tuple[Guard, ...]:
    """The guards named in ``settings.guards.enabled``, in that order."""
    unknown = [name for name in settings.guards.enabled if name not in GUARDS]
    if unknown:
        raise ConfigError(f"unknown guards {unknown}; known: {sorted(GUARDS)}")
    return tuple(GUARDS[name](settings) for name in settings.guards.enabled)


def of_stage(guards: tuple[Guard, ...], stage: GuardStage) -> tuple[Guard, ...]:
    """The guards of one stage, in order."""
    return tuple(g for g in guards if g.stage == stage)
