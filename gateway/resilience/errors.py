"""Errors raised by the fallback-chain executor; each carries the attempt log and every link's last error.

The executor also attaches ``attempts`` and ``link_errors`` to a :class:`gateway.errors.ProviderBadRequest` it
re-raises, so callers read both through :func:`attempts_of` and :func:`link_errors_of` whatever was raised.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import DeadlineExceeded, StreamgateError
from schemas.codes import ErrorCode
from schemas.result import Attempt

LinkError = dict[str, Any]
"""One link's last error, ``{"provider", "model", "code", "message", "status"}``: ``ErrorInfo.details``."""


class AllLinksFailed(StreamgateError):
    """Every link of the fallback chain failed or was skipped."""

    code = ErrorCode.ALL_PROVIDERS_FAILED
    retryable = False
    allow_fallback = False

    def __init__(self, message: str, *, attempts: list[Attempt], link_errors: list[LinkError]) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.link_errors = link_errors


class ChainDeadlineExceeded(DeadlineExceeded):
    """The request's deadline passed while the chain was being worked through."""

    def __init__(self, message: str, *, attempts: list[Attempt], link_errors: list[LinkError]) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.link_errors = link_errors


def attempts_of(exc: BaseException) -> list[Attempt]:
    """The attempt log an executor error carries (empty for any other exception)."""
    attempts = getattr(exc, "attempts", None)
    return list(attempts) if isinstance(attempts, list) else []


def link_errors_of(exc: BaseException) -> list[LinkError]:
    """The per-link errors an executor error carries (empty for any other exception)."""
    errors = getattr(exc, "link_errors", None)
    return list(errors) if isinstance(errors, list) else []
