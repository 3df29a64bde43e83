"""The simulator's admin API under ``/_sim/`` (no authentication; it listens on loopback by default).

==============================  ==============================================================================
``GET /_sim/health``            ``{"ok": true}`` (readiness probe)
``GET /_sim/stats``             every counter of :class:`gateway.simulator.stats.SimStats`
``GET /_sim/faults``            the current fault spec per model (``"*"`` is the default)
``POST /_sim/faults``           ``{"model": "gpt-4o-mini" | "*", "replace": false, ...FaultSpec fields}``: set
                                faults, merged into that model's current ones unless ``replace``
``DELETE /_sim/faults``         clear every fault; ``?model=NAME`` clears one model's
``POST /_sim/reset``            clear the stats and put the faults back to the configured initial ones
==============================  ==============================================================================
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from gateway.simulator.calls import JSON_TYPE, STATE_KEY


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type=JSON_TYPE)


async def health(request: web.Request) -> web.Response:
    """``GET /_sim/health``."""
    return _json({"ok": True})


async def get_stats(request: web.Request) -> web.Response:
    """``GET /_sim/stats``."""
    return _json(request.app[STATE_KEY].stats.snapshot())


async def get_received(request: web.Request) -> web.Response:
    """``GET /_sim/received?id=REQUEST_ID``: the bodies of the calls made for one gateway request."""
    return _json({"bodies": request.app[STATE_KEY].stats.received_for(request.query.get("id", ""))})


async def get_faults(request: web.Request) -> web.Response:
    """``GET /_sim/faults``."""
    return _json(request.app[STATE_KEY].faults.snapshot())


async def set_faults(request: web.Request) -> web.Response:
    """``POST /_sim/faults``: answers the resulting spec, or 400 with the validation errors."""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return _json({"error": "expected a JSON object with a string 'model'"}, 400)
    fields = dict(body)
    model = fields.pop("model")
    replace = bool(fields.pop("replace", False))
    try:
        spec = request.app[STATE_KEY].faults.set(model, replace=replace, **fields)
    except ValidationError as err:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in err.errors()]
        return _json({"error": "invalid fault fields", "details": errors}, 400)
    return _json({"model": model, "fault": spec.model_dump()})


async def clear_faults(request: web.Request) -> web.Response:
    """``DELETE /_sim/faults`` (all) or ``DELETE /_sim/faults?model=NAME`` (one)."""
    request.app[STATE_KEY].faults.clear(request.query.get("model"))
    return _json({"ok": True})


async def reset(request: web.Request) -> web.Response:
    """``POST /_sim/reset``."""
    state = request.app[STATE_KEY]
    state.stats.reset()
    state.faults.reset()
    return _json({"ok": True})


def add_routes(app: web.Application) -> None:
    """Register the admin routes on ``app``."""
    app.router.add_get("/_sim/health", health)
    app.router.add_get("/_sim/stats", get_stats)
    app.router.add_get("/_sim/received", get_received)
    app.router.add_get("/_sim/faults", get_faults)
    app.router.add_post("/_sim/faults", set_faults)
    app.router.add_delete("/_sim/faults", clear_faults)
    app.router.add_post("/_sim/reset", reset)
