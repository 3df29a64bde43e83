"""The path every provider-API call takes before its answer is written, shared by both wire formats.

:func:`serve_call` parses the JSON body, counts the call, checks the API-key header, applies configured faults
and prompt directives (latency, hang, error status, malformed body) and only then hands a :class:`CallContext`
to the format's answer function. Errors are written in the provider's own error body shape so the official
SDKs raise their usual typed exceptions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from aiohttp import web

from gateway.simulator.config import SimulatorConfig
from gateway.simulator.directives import Directives, directives_for
from gateway.simulator.faults import FaultRegistry
from gateway.simulator.stats import REQUEST_ID_HEADER, SimStats

Flavor = Literal["openai", "anthropic"]
JSON_TYPE = "application/json"


@dataclass(slots=True)
class SimState:
    """The live state shared by every handler of one simulator."""

    config: SimulatorConfig
    stats: SimStats
    faults: FaultRegistry
    batches: Any = None  # gateway.simulator.batches.BatchBook (set by the server; that module imports this one)


STATE_KEY = web.AppKey("streamgate_sim_state", SimState)


@dataclass(frozen=True, slots=True)
class CallContext:
    """A call that passed the fault stage and must now be answered."""

    body: dict[str, Any]
    model: str
    request_id: str | None
    directives: Directives


class BadRequest(Exception):
    """Raised by an answer function when the request body is invalid (answered as a 400).

    Deliberately outside the :class:`gateway.errors.StreamgateError` tree: the simulator stands in for a provider's
    server, and this never escapes it (``serve_call`` turns it into the HTTP 400 the gateway then maps).
    """


AnswerFn = Callable[[web.Request, CallContext], Awaitable[web.StreamResponse]]

_OPENAI_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERRORS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def new_id(prefix: str) -> str:
    """A random provider-style id such as ``chatcmpl-…`` or ``msg_…``."""
    return prefix + secrets.token_hex(12)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def error_response(flavor: Flavor, status: int, message: str, retry_after_s: float | None = None) -> web.Response:
    """An error answer in the provider's body shape (with ``Retry-After`` when given)."""
    headers: dict[str, str] = {}
    if retry_after_s is not None:
        headers["Retry-After"] = _seconds(retry_after_s)
        headers["retry-after-ms"] = str(int(retry_after_s * 1000))
    if flavor == "openai":
        kind, code = _OPENAI_ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        body: dict[str, Any] = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        headers["x-request-id"] = new_id("req_")
    else:
        kind = _ANTHROPIC_ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
        headers["request-id"] = new_id("req_")
    return web.Response(status=status, body=orjson.dumps(body), content_type=JSON_TYPE, headers=headers)


def malformed_response(stream: bool) -> web.Response:
    """A 200 whose body is not valid JSON (or whose SSE data is not), for the ``malformed`` fault."""
    if stream:
        text = 'event: message_start\ndata: {"id": "broken", "choices": [\n\n'
        return web.Response(status=200, text=text, content_type="text/event-stream")
    return web.Response(status=200, text='{"id": "broken", "choices": [{"index": 0, ', content_type=JSON_TYPE)


def _authorized(request: web.Request, flavor: Flavor) -> bool:
    bearer = request.headers.get("Authorization", "")
    has_bearer = bearer.startswith("Bearer ") and len(bearer.strip()) > len("Bearer")
    if flavor == "openai":
        return has_bearer
    return bool(request.headers.get("x-api-key")) or has_bearer


async def _admit(request: web.Request, flavor: Flavor, state: SimState) -> CallContext | web.Response:
    """Parse, count, authenticate, wait, fail: all before the answer. Returns the context or an error."""
    request_id = request.headers.get(REQUEST_ID_HEADER)
    raw = await request.read()
    state.stats.record_body(request_id, raw)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        state.stats.record_call("unknown", request_id)
        return error_response(flavor, 400, "The request body is not a JSON object.")
    model = body.get("model")
    state.stats.record_call(model if isinstance(model, str) else "unknown", request_id)
    if state.config.require_auth and not _authorized(request, flavor):
        header = "Authorization: Bearer" if flavor == "openai" else "x-api-key"
        return error_response(flavor, 401, f"Missing API key: send a {header} header.")
    if not isinstance(model, str) or not model:
        return error_response(flavor, 400, "'model' is required.")
    directives = directives_for(body.get("messages"))
    decision = state.faults.decide(model)
    delay = decision.delay_s + directives.sleep_ms / 1000.0
    if delay > 0:
        await asyncio.sleep(delay)
    if decision.hang or directives.hang:
        await asyncio.sleep(state.config.hang_max_s)
        return error_response(flavor, 504, "Simulated hang gave up.")
    status = directives.status if directives.status is not None else decision.status
    if status is not None and status >= 400:
        retry_after = directives.retry_after_s if directives.retry_after_s is not None else decision.retry_after_s
        if status == 429 and retry_after is None:
            retry_after = 1.0
        return error_response(flavor, status, f"Simulated error {status}.", retry_after)
    if decision.malformed or directives.malformed:
        return malformed_response(bool(body.get("stream")))
    if decision.bad_json and not directives.bad_json:
        directives = dataclasses.replace(directives, bad_json=True)
    if decision.cut_stream:
        directives = dataclasses.replace(directives, cut_stream=True)
    return CallContext(body=body, model=model, request_id=request_id, directives=directives)


async def serve_call(request: web.Request, flavor: Flavor, answer: AnswerFn) -> web.StreamResponse:
    """Serve one provider-API call: admit it, then let ``answer`` write the reply; count the successes."""
    state = request.app[STATE_KEY]
    state.stats.enter()
    try:
        admitted = await _admit(request, flavor, state)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        try:
            response = await answer(request, admitted)
        except BadRequest as err:
            return error_response(flavor, 400, str(err))
        state.stats.record_success(admitted.model, admitted.request_id)
        return response
    finally:
        state.stats.leave()


async def open_sse(request: web.Request, headers: dict[str, str] | None = None) -> web.StreamResponse:
    """Start a ``text/event-stream`` response."""
    response = web.StreamResponse(
        status=200,
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **(headers or {})},
    )
    await response.prepare(request)
    return response


async def write_events(
    request: web.Request, response: web.StreamResponse, events: list[bytes], ctx: CallContext
) -> bool:
    """Write a stream's delta events, ``delta_ms`` apart; under the ``cut_stream`` fault drop the connection
    halfway instead (the client sees a truncated stream). False when cut."""
    pause = (request.app[STATE_KEY].config.stream_delta_ms + ctx.directives.delta_ms) / 1000.0
    cut_at = len(events) // 2 if ctx.directives.cut_stream else None
    for index, event in enumerate(events):
        if index == cut_at:
            response.force_close()
            if request.transport is not None:
                request.transport.close()
            return False
        if pause and index:
            await asyncio.sleep(pause)
        await response.write(event)
    return True


def split_deltas(text: str, words_per_chunk: int, *, is_json: bool = False) -> list[str]:
    """Split ``text`` into stream deltas (a few words, or 24 characters of JSON) that join back to it."""
    if is_json:
        return [text[i : i + 24] for i in range(0, len(text), 24)] or [""]
    words = text.split(" ")
    return [
        " ".join(words[i : i + words_per_chunk]) + (" " if i + words_per_chunk < len(words) else "")
        for i in range(0, len(words), words_per_chunk)
    ]
