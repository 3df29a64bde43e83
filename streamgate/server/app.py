"""The ASGI application of ``streamgate serve`` (FastAPI): routes, API-key auth, and errors in each API's format.

``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic), ``GET /v1/models``,
``GET /v1/requests/{id}`` (async mode) and ``GET /healthz``. ``/openapi.json`` describes them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.errors import BrokerError, StreamgateError
from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.request import REQUEST_ID_PATTERN
from streamgate.client import Client
from streamgate.errors import InvalidClientRequest
from streamgate.server.anthropic_format import AnthropicFormat, MessagesRequest
from streamgate.server.formats import WireFormat
from streamgate.server.frontdoor import FrontDoor, error_answer, respond
from streamgate.server.jobs import JobStore, JobStoreUnavailable
from streamgate.server.keys import KeyRing, Principal
from streamgate.server.models import model_list
from streamgate.server.openai_format import ChatCompletionRequest, OpenAIFormat
from streamgate.server.status import plain_error

OPENAI = OpenAIFormat()
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
ANTHROPIC = AnthropicFormat()

_bearer = HTTPBearer(auto_error=False, description="OpenAI style: `Authorization: Bearer <key>`")
_api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="Anthropic style: `x-api-key: <key>`")

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text}
    for status, text in {
        400: "invalid_request, guardrail_blocked, context_too_long, price_unknown",
        401: "no valid API key",
        403: "model_not_allowed",
        404: "model_not_found",
        413: "payload_too_large (also a body over guards.max_request_bytes, refused before publishing)",
        429: "rate_limited or budget_exhausted (with Retry-After)",
        502: "all_providers_failed and other provider failures",
        503: "circuit_open, or the broker or the async store is unavailable",
        504: "deadline_exceeded",
    }.items()
}
_ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"description": "accepted (Prefer: respond-async)"}}


class Refused(StreamgateError):
    """A request the front door answers itself (no valid key) in ``fmt``'s error format."""

    def __init__(self, fmt: WireFormat, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.fmt = fmt
        self.status = status
        self.error_code = code


def format_for(request: Request) -> WireFormat:
    """The format to answer a request in: Anthropic's for ``/v1/messages`` or an ``anthropic-version`` header."""
    if request.url.path.startswith("/v1/messages") or "anthropic-version" in request.headers:
        return ANTHROPIC
    return OPENAI


def authenticated(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The principal of the request's API key (either header); a :class:`Refused` 401 without a valid one."""
    keys: KeyRing = request.app.state.keys
    found = keys.principal(bearer.credentials if bearer is not None else api_key)
    if found is None:
        raise Refused(format_for(request), 401, "invalid_api_key", "a valid API key is required")
    return found


Auth = Annotated[Principal, Depends(authenticated)]


def door(request: Request) -> FrontDoor:
    """The application's :class:`FrontDoor` (made by its lifespan)."""
    found: FrontDoor = request.app.state.door
    return found


def create_app(settings: Settings, keys: KeyRing, *, bootstrap: str) -> FastAPI:
    """The application; its lifespan starts one SDK client (one reply topic) and the async-request store."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = Client(settings=settings, bootstrap=bootstrap)
        redis = aioredis.from_url(settings.redis_url)
        serve = settings.serve
        jobs = JobStore(redis, result_ttl_s=serve.async_result_ttl_s, pending_ttl_s=int(serve.async_timeout_s) + 60)
        await client.start()
        app.state.door = FrontDoor(settings, client, jobs)
        try:
            yield
        finally:
            await app.state.door.aclose()
            await client.close()
            await redis.aclose()

    app = FastAPI(
        title="streamgate",
        summary="OpenAI- and Anthropic-compatible front door of the streamgate Kafka LLM gateway",
        lifespan=lifespan,
    )
    app.state.keys = keys
    _install_error_handlers(app)

    async def answer(
        request: Request,
        fmt: WireFormat,
        make: Callable[[], dict[str, Any]],
        principal: Principal,
        *,
        stream: bool,
        include_usage: bool = False,
    ) -> Response:
        limit = settings.guards.max_request_bytes
        if len(await request.body()) > limit:  # refused here: a record over the producer's limit cannot be sent
            error = plain_error(413, ErrorCode.PAYLOAD_TOO_LARGE, f"request body over {limit} bytes")
            return respond(error_answer(fmt, error, None))
        try:
            fields = make()
            return await door(request).answer(
                fmt, fields, principal, request.headers, stream=stream, include_usage=include_usage
            )
        except InvalidClientRequest as exc:
            return respond(error_answer(fmt, plain_error(400, ErrorCode.INVALID_REQUEST, exc.message), None))
        except BrokerError as exc:  # not published (or unknown whether): the client may retry with its key
            error = plain_error(
                503, ErrorCode.PROVIDER_UNAVAILABLE, f"the gateway's broker is unavailable: {exc.message}"
            )
            return respond(error_answer(fmt, error, None))

    @app.post("/v1/chat/completions", responses={**_ACCEPTED, **_ERRORS}, tags=["openai"])
    async def chat_completions(body: ChatCompletionRequest, request: Request, principal: Auth) -> Response:
        """OpenAI chat completions; ``stream: true`` answers Server-Sent Events."""
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return await answer(
            request,
            OPENAI,
            lambda: OPENAI.request_fields(body),
            principal,
            stream=bool(body.stream),
            include_usage=include_usage,
        )

    @app.post("/v1/messages", responses={**_ACCEPTED, **_ERRORS}, tags=["anthropic"])
    async def messages(body: MessagesRequest, request: Request, principal: Auth) -> Response:
        """Anthropic messages; ``stream: true`` answers Server-Sent Events."""
        return await answer(
            request, ANTHROPIC, lambda: ANTHROPIC.request_fields(body), principal, stream=bool(body.stream)
        )

    @app.get("/v1/models", responses={401: _ERRORS[401]})
    async def models(request: Request, principal: Auth) -> dict[str, Any]:
        """The models and aliases the key's tenant may use (Anthropic's list shape with ``anthropic-version``)."""
        return model_list(settings, principal.tenant, anthropic=format_for(request) is ANTHROPIC)

    @app.get("/v1/requests/{request_id}", responses={401: _ERRORS[401], 404: {"description": "unknown request"}})
    async def request_state(request_id: str, request: Request, principal: Auth) -> Response:
        """An async request: ``pending``, or ``completed`` with its ``http_status`` and ``response``."""
        fmt = format_for(request)
        if not _REQUEST_ID.fullmatch(request_id):  # no such request can exist; never echo it into a header
            return respond(error_answer(fmt, plain_error(404, "request_not_found", "not a request id"), None))
        try:
            record = await door(request).jobs.get(principal, request_id)
        except JobStoreUnavailable as exc:
            return respond(error_answer(fmt, plain_error(503, ErrorCode.INTERNAL_ERROR, exc.message), request_id))
        if record is None:
            error = plain_error(404, "request_not_found", f"no async request {request_id} (or it expired)")
            return respond(error_answer(fmt, error, request_id))
        return JSONResponse({"id": request_id, "object": "streamgate.request", **record})

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        """Liveness."""
        return {"alive": True}

    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return respond(error_answer(exc.fmt, plain_error(exc.status, exc.error_code, exc.message), None))

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
            for e in exc.errors()[:5]
        )
        error = plain_error(400, ErrorCode.INVALID_REQUEST, f"invalid request: {problems}")
        return respond(error_answer(format_for(request), error, None))

    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(RequestValidationError, invalid)
