"""Helpers shared by the provider adapters: connection pool sizing, request headers, usage parsing, streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx2

from gateway.errors import ProviderAuthError
from gateway.providers._transport import AiohttpTransport
from gateway.providers.base import CompletionCall, DeltaSink

S = TypeVar("S")

REQUEST_ID_HEADER = "X-Streamgate-Request-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
PLACEHOLDER_API_KEY = "streamgate-no-key"
"""Sent when no key is configured but a base URL is (a simulator or a proxy that adds credentials)."""

KEEPALIVE_EXPIRY_S = 30.0
CONNECT_TIMEOUT_S = 5.0
DEFAULT_TIMEOUT_S = 60.0


def pool_limits(max_connections: int) -> httpx2.Limits:
    """Connection-pool limits for ``max_connections`` concurrent calls, all of which may be kept alive."""
    if max_connections < 1:
        raise ValueError(f"max_connections must be >= 1, got {max_connections}")
    return httpx2.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )


def pooled_transport(max_connections: int) -> AiohttpTransport:
    """The SDKs' HTTP transport: an aiohttp pool of ``max_connections`` (see :mod:`gateway.providers._transport`)."""
    return AiohttpTransport(pool_limits(max_connections))


def client_timeout() -> httpx2.Timeout:
    """The HTTP client's default timeout; every call overrides it with ``CompletionCall.timeout_s``."""
    return httpx2.Timeout(DEFAULT_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


def request_headers(call: CompletionCall) -> dict[str, str]:
    """``call.extra_headers`` plus the request-id and idempotency headers when the call has a key."""
    headers = dict(call.extra_headers)
    if call.idempotency_key:
        headers[IDEMPOTENCY_HEADER] = call.idempotency_key
    request_id = call.request_id or call.idempotency_key
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return headers


def resolve_api_key(api_key: str | None, base_url: str | None) -> str | None:
    """The key to give the SDK: the real one, a placeholder when only a base URL is set, else ``None``."""
    if api_key:
        return api_key
    if base_url:
        return PLACEHOLDER_API_KEY
    return None


def missing_key_error(provider: str, model: str, env_var: str) -> ProviderAuthError:
    """The error ``complete`` raises when the provider was built without credentials."""
    return ProviderAuthError(
        f"{provider}: no API key configured (set {env_var} or a base URL); the provider cannot be called",
        provider=provider,
        model=model,
    )


def token_count(value: object) -> int | None:
    """A reported token count, or ``None`` when it is absent or not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


@asynccontextmanager
async def open_stream(
    client: Any,
    call: CompletionCall,
    path: str,
    body: dict[str, Any],
    sink: DeltaSink,
    *,
    cast_to: type[Any],
    stream_cls: type[S],
) -> AsyncIterator[S]:
    """POST ``body`` to ``path`` as a stream through an official SDK client (the OpenAI and Anthropic clients'
    ``post`` take the same arguments), tell ``sink`` the answer started, and give the SDK's stream of decoded
    events (a ``stream_cls``), closed on the way out. Errors are the SDK's (or the transport's)."""
    stream: Any = await client.post(
        path,
        body=body,
        cast_to=cast_to,
        stream=True,
        stream_cls=stream_cls,
        options={"headers": request_headers(call), "timeout": call.timeout_s},
    )
    await sink.started()
    async with stream:
        yield stream
