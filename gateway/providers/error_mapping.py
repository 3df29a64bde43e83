"""Map the OpenAI and Anthropic SDK exceptions onto :mod:`gateway.errors`.

Both SDKs share one shape (``APITimeoutError`` ⊂ ``APIConnectionError``; ``APIStatusError`` with
``status_code`` and ``response``; ``APIResponseValidationError``), so one function serves both:
:func:`map_sdk_error`.

====================================================  ===========================  ====================
SDK exception / condition                             streamgate error             retryable / fallback
====================================================  ===========================  ====================
``APITimeoutError``, :class:`TimeoutError`            ``ProviderTimeout``          yes / yes
``APIConnectionError`` (refused, reset, DNS, TLS)     ``ProviderConnectionError``  yes / yes
status 429                                            ``ProviderRateLimited``      yes / yes
status 401, 403                                       ``ProviderAuthError``        no / yes
status 408, 409, 5xx (incl. 529)                      ``ProviderUnavailable``      yes / yes
any other 4xx                                         ``ProviderBadRequest``       no / no
other non-success status (1xx/3xx)                    ``ProviderBadResponse``      yes / yes
``APIResponseValidationError``, JSON/pydantic errors  ``ProviderBadResponse``      yes / yes
anything else                                         ``ProviderError``            yes / yes
====================================================  ===========================  ====================

``retry_after_s`` is set from ``retry-after-ms`` or ``Retry-After`` (delta-seconds or HTTP date) whenever the
error response carries one, whatever its status.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping

import anthropic
import openai
import pydantic

from gateway.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderBadResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)

_TIMEOUTS = (openai.APITimeoutError, anthropic.APITimeoutError, TimeoutError)
_CONNECTION = (openai.APIConnectionError, anthropic.APIConnectionError)
_STATUS = (openai.APIStatusError, anthropic.APIStatusError)
_UNPARSEABLE = (
    openai.APIResponseValidationError,
    anthropic.APIResponseValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
    pydantic.ValidationError,
)
_RETRYABLE_4XX = frozenset({408, 409})


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (delta-seconds or HTTP date), else ``None``.

    ``retry-after-ms`` wins when both are present (it is the more precise). Negative or past values give
    ``0.0``; unparseable values are ignored.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        millis = _finite_float(raw_ms)
        if millis is not None:
            return max(millis / 1000.0, 0.0)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _finite_float(raw)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive result means no zone was given
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def error_for_status(
    status: int,
    *,
    provider: str,
    model: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> ProviderError:
    """The streamgate error for an HTTP error ``status`` (see the module table)."""
    retry_after = parse_retry_after(headers) if headers is not None else None
    cls: type[ProviderError]
    if status == 429:
        cls = ProviderRateLimited
    elif status in (401, 403):
        cls = ProviderAuthError
    elif status >= 500 or status in _RETRYABLE_4XX:
        cls = ProviderUnavailable
    elif 400 <= status < 500:
        cls = ProviderBadRequest
    else:
        cls = ProviderBadResponse
    return cls(
        f"{provider} HTTP {status}: {message}",
        provider=provider,
        model=model,
        status=status,
        retry_after_s=retry_after,
    )


def map_sdk_error(exc: BaseException, *, provider: str, model: str) -> ProviderError:
    """Map an exception raised while calling either SDK onto the :class:`ProviderError` tree.

    A :class:`ProviderError` is returned unchanged. The caller raises the result ``from exc``.
    """
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, _TIMEOUTS):
        return ProviderTimeout(f"{provider} request timed out", provider=provider, model=model)
    if isinstance(exc, _CONNECTION):
        cause = exc.__cause__
        detail = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        return ProviderConnectionError(f"{provider} connection failed{detail}", provider=provider, model=model)
    if isinstance(exc, _STATUS):
        return error_for_status(
            exc.status_code,
            provider=provider,
            model=model,
            message=_short(exc.message),
            headers=exc.response.headers,
        )
    if isinstance(exc, _UNPARSEABLE):
        status = getattr(exc, "status_code", None)
        return ProviderBadResponse(
            f"{provider} response could not be parsed: {type(exc).__name__}: {_short(str(exc))}",
            provider=provider,
            model=model,
            status=status if isinstance(status, int) else None,
        )
    return ProviderError(
        f"{provider} call failed unexpectedly: {type(exc).__name__}: {_short(str(exc))}",
        provider=provider,
        model=model,
    )


def _finite_float(raw: str) -> float | None:
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
