"""An httpx2 transport over an aiohttp connection pool, used by both provider SDKs.

Why: httpx2's own pool (httpcore2) re-examines every pooled connection on every request and probes idle
sockets for readability, so its CPU cost per call grows with the number of open connections. Measured against
the simulator (see ``bench/FINDINGS.md``): 1.5 ms of CPU per call at 10 concurrent calls, 3.5 ms at 200 and
11 ms at 1,000, which capped a worker at ~80 calls/s with 1 s provider latency. aiohttp's connector hands out
connections in O(1); through this transport a call costs ~1.3 ms of CPU at any concurrency (mostly the SDK).

The SDKs keep doing everything else (request building, retries off, response parsing, error classes). Errors are
mapped onto httpx2's classes as httpx2's own transport would raise them, so the SDKs turn them into the same
exceptions: any timeout becomes an ``httpx2.TimeoutException`` (the SDKs' ``APITimeoutError``) and every other
transport failure (refused, reset, DNS, TLS, truncated body) an ``httpx2.TransportError`` that is not a timeout
(their ``APIConnectionError``).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx2

_CHUNK_BYTES = 64 * 1024


@contextlib.contextmanager
def _mapped(request: httpx2.Request, *, reading: bool) -> Iterator[None]:
    """Re-raise aiohttp / asyncio failures as the httpx2 exception httpx2's transport would have raised."""
    try:
        yield
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            raise httpx2.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        raise httpx2.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx2.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ClientError, OSError) as exc:
        kind = httpx2.ReadError if reading else httpx2.RemoteProtocolError
        raise kind(str(exc) or type(exc).__name__, request=request) from exc


class _ResponseStream(httpx2.AsyncByteStream):
    """The body of an aiohttp response, read in chunks; closing it returns the connection to the pool."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx2.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request, reading=True):
            async for chunk in self._response.content.iter_chunked(_CHUNK_BYTES):
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """``httpx2.AsyncBaseTransport`` over one ``aiohttp.ClientSession`` (created on first use, in the running loop).

    ``limits.max_connections`` bounds the open connections (calls beyond it wait for one, as with httpx2) and
    ``limits.keepalive_expiry`` is how long an idle connection is kept.
    """

    def __init__(self, limits: httpx2.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        self._limits = limits
        self._ssl = ssl_context if ssl_context is not None else httpx2.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=self._limits.keepalive_expiry or 15.0,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send ``request`` and return a streaming response (httpx2 reads and closes it)."""
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        with _mapped(request, reading=False):
            response = await self._client().request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=body or None,
                allow_redirects=False,
                compress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx2.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None
