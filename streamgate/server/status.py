"""Which HTTP status (and headers) a stable error code is answered with, for both wire formats."""

from __future__ import annotations

import math
from dataclasses import dataclass

from schemas.codes import ErrorCode
from schemas.result import ErrorInfo

_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.GUARDRAIL_BLOCKED: 400,
    ErrorCode.CONTEXT_TOO_LONG: 400,
    ErrorCode.PRICE_UNKNOWN: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.MODEL_NOT_ALLOWED: 403,
    # Tenant binding refused what the front door signed: its config lacks the tenant's key. Not retryable.
    ErrorCode.UNAUTHENTICATED: 403,
    ErrorCode.TENANT_FORBIDDEN: 403,
    ErrorCode.MODEL_NOT_FOUND: 404,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BUDGET_EXHAUSTED: 429,
    ErrorCode.DEADLINE_EXCEEDED: 504,
    ErrorCode.CIRCUIT_OPEN: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}
"""Everything not listed (the provider_* codes, all_providers_failed, output_invalid) is a bad gateway: 502."""


@dataclass(frozen=True, slots=True)
class HttpError:
    """An error as the front door answers it: status, stable code, message, headers."""

    status: int
    code: str
    message: str
    headers: dict[str, str]
    limit: str | None = None
    retry_after_ms: int | None = None


def http_error(error: ErrorInfo) -> HttpError:
    """The HTTP answer of a ``rejected``/``error`` result's error."""
    status = _STATUS.get(error.code, 502)
    headers: dict[str, str] = {}
    if status == 429:
        headers["Retry-After"] = str(max(1, math.ceil((error.retry_after_ms or 1000) / 1000)))
    if error.code == ErrorCode.BUDGET_EXHAUSTED:
        headers["x-should-retry"] = "false"  # the official SDKs would retry within seconds; the budget is per day
    return HttpError(
        status=status,
        code=str(error.code),
        message=error.message,
        headers=headers,
        limit=error.limit,
        retry_after_ms=error.retry_after_ms,
    )


def plain_error(status: int, code: ErrorCode | str, message: str) -> HttpError:
    """An error the front door itself answers (auth, validation, a missing async job)."""
    return HttpError(status=status, code=str(code), message=message, headers={})
