"""Answering one HTTP request through the SDK: publish, then wait for the result on the connection, stream it as
Server-Sent Events, or (async mode) record it for ``GET /v1/requests/{id}``.

The request is published before anything waits on it, and the wait never cancels it: a client that disconnects
only stops listening; the gateway serves, accounts and reports the request as any other.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse

from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.result import LLMResult
from streamgate.client import Client, Pending
from streamgate.errors import InvalidClientRequest, ResultTimeout
from streamgate.replies import Chunk
from streamgate.requests import new_request_id
from streamgate.server.formats import Turn, WireFormat
from streamgate.server.jobs import JobStore, JobStoreUnavailable
from streamgate.server.keys import Principal
from streamgate.server.status import HttpError, http_error, plain_error

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Streamgate-Request-Id"
MAX_IDEMPOTENCY_KEY = 255


def request_id_for(principal: Principal, idempotency_key: str | None) -> str:
    """The gateway request id: from ``Idempotency-Key`` (scoped to the key's tenant and user, so one principal's
    key can never fetch another's stored answer), else a fresh one."""
    if idempotency_key is None:
        return new_request_id("http")
    if not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidClientRequest(f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
    scoped = f"{principal.tenant}\0{principal.user}\0{idempotency_key}".encode()
    return "idem-" + hashlib.sha256(scoped).hexdigest()[:40]


def prefers_async(headers: Mapping[str, str]) -> bool:
    """Whether the ``Prefer`` header asks for ``respond-async`` (RFC 7240)."""
    prefer = headers.get("prefer", "")
    return any(token.split(";")[0].split("=")[0].strip().lower() == "respond-async" for token in prefer.split(","))


Answer = tuple[int, dict[str, Any], dict[str, str]]
"""An HTTP answer before it is sent: status, JSON body, headers."""


def error_answer(fmt: WireFormat, error: HttpError, request_id: str | None) -> Answer:
    """An error in ``fmt``'s body shape, with its status and headers."""
    headers = dict(error.headers)
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return error.status, fmt.error_body(error, request_id), headers


def result_answer(fmt: WireFormat, turn: Turn, result: LLMResult) -> Answer:
    """The non-streamed answer of ``result`` in ``fmt``."""
    if result.status == "ok":
        return 200, fmt.response(turn, result), {REQUEST_ID_HEADER: result.id}
    assert result.error is not None
    return error_answer(fmt, http_error(result.error), result.id)


def respond(answer: Answer) -> JSONResponse:
    """The response of an :data:`Answer`."""
    status, body, headers = answer
    return JSONResponse(body, status_code=status, headers=headers)


class FrontDoor:
    """Turns parsed HTTP requests into gateway requests and their results into HTTP answers."""

    def __init__(self, settings: Settings, client: Client, jobs: JobStore) -> None:
        self.settings = settings
        self.client = client
        self.jobs = jobs
        self._background: set[asyncio.Task[None]] = set()

    async def answer(
        self,
        fmt: WireFormat,
        fields: dict[str, Any],
        principal: Principal,
        headers: Mapping[str, str],
        *,
        stream: bool,
        include_usage: bool = False,
    ) -> Response:
        """Publish the request and answer it in ``fmt`` (JSON, SSE, or 202 in async mode)."""
        request_id = request_id_for(principal, headers.get("idempotency-key"))
        who = {"id": request_id, "tenant": principal.tenant, "user": principal.user}
        if prefers_async(headers):
            return await self._accept_async(fmt, fields | who, principal)
        serve = self.settings.serve
        pending = await self.client.send(
            fields["messages"], stream=stream, timeout_s=serve.request_timeout_s, **_rest(fields), **who
        )
        turn = Turn(pending.request, requested_model=str(fields.get("model", "")), include_usage=include_usage)
        try:
            first = await (pending.next() if stream else pending.result())
        except ResultTimeout as exc:
            return respond(error_answer(fmt, _timeout(exc), request_id))
        except BaseException:  # the connection went away: stop listening (the request is still served)
            pending.cancel()
            raise
        # Not streamed, or a stream whose first reply is already a refusal: an HTTP error, not a 200 stream.
        if isinstance(first, LLMResult) and (not stream or first.status != "ok"):
            pending.cancel()
            return respond(result_answer(fmt, turn, first))
        headers_out = {REQUEST_ID_HEADER: request_id, "Cache-Control": "no-cache"}
        return StreamingResponse(
            self._events(fmt, turn, pending, first), media_type="text/event-stream", headers=headers_out
        )

    async def _events(
        self, fmt: WireFormat, turn: Turn, pending: Pending, first: Chunk | LLMResult
    ) -> AsyncIterator[bytes]:
        sent: list[str] = []
        try:
            for event in fmt.stream_start(turn):
                yield event
            reply = first
            while isinstance(reply, Chunk):
                if reply.reset and any(sent):
                    # A failover after partial output answered differently: text already sent cannot be taken
                    # back, so the stream ends with an error; a retry with the same Idempotency-Key gets the answer.
                    error = plain_error(502, "stream_reset", "the answer restarted after a provider failover; retry")
                    for event in fmt.stream_error(turn, error):
                        yield event
                    return
                sent.append(reply.delta)
                for event in fmt.stream_delta(turn, reply.delta):
                    yield event
                try:
                    reply = await pending.next()
                except ResultTimeout as exc:
                    for event in fmt.stream_error(turn, _timeout(exc)):
                        yield event
                    return
            if reply.status != "ok":
                assert reply.error is not None
                for event in fmt.stream_error(turn, http_error(reply.error)):
                    yield event
                return
            for event in fmt.stream_delta(turn, _unsent(reply.output or "", "".join(sent))):
                yield event
            for event in fmt.stream_end(turn, reply):
                yield event
        finally:
            pending.cancel()  # a client gone mid-stream: stop listening; the request is served and accounted

    async def _accept_async(self, fmt: WireFormat, fields: dict[str, Any], principal: Principal) -> Response:
        request_id = fields["id"]
        try:
            fresh = await self.jobs.accept(principal, request_id, fmt.name)
        except JobStoreUnavailable as exc:
            return respond(error_answer(fmt, plain_error(503, ErrorCode.INTERNAL_ERROR, exc.message), request_id))
        if fresh:
            try:
                pending = await self.client.send(
                    fields["messages"], timeout_s=self.settings.serve.async_timeout_s, **_rest(fields)
                )
            except BaseException:
                await self.jobs.forget(principal, request_id)
                raise
            turn = Turn(pending.request, requested_model=str(fields.get("model", "")))
            task = asyncio.create_task(self._finish_async(fmt, turn, pending, principal))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        location = f"/v1/requests/{request_id}"
        body = {"id": request_id, "object": "streamgate.request", "status": "pending", "location": location}
        headers = {"Location": location, "Preference-Applied": "respond-async", REQUEST_ID_HEADER: request_id}
        return JSONResponse(body, status_code=202, headers=headers)

    async def _finish_async(self, fmt: WireFormat, turn: Turn, pending: Pending, principal: Principal) -> None:
        try:
            status, body, _ = result_answer(fmt, turn, await pending.result())
        except ResultTimeout as exc:
            status, body, _ = error_answer(fmt, _timeout(exc), turn.request.id)
        try:
            await self.jobs.finish(principal, turn.request.id, fmt.name, status, body)
        except JobStoreUnavailable as exc:
            log.warning("async request %s finished but could not be stored: %s", turn.request.id, exc)

    async def aclose(self) -> None:
        """Stop waiting for async requests (they are still served and accounted; their records stay pending)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)


def _rest(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name != "messages"}


def _unsent(output: str, sent: str) -> str:
    """What of the final ``output`` the relayed chunks did not already carry (all of it when none came)."""
    return output[len(sent) :] if output.startswith(sent) else ""


def _timeout(exc: ResultTimeout) -> HttpError:
    return plain_error(504, ErrorCode.DEADLINE_EXCEEDED, exc.message)
