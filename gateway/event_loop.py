"""Which asyncio event loop the long-running processes (worker, simulator) use.

uvloop runs the loop, its callbacks and socket I/O in C: on a loaded worker it cut CPU per request by ~5 % and
lowered queueing latency (A/B at 240 req/s on the embedded broker, bench/FINDINGS.md). Faust and aiokafka support
it as a drop-in; the standard loop stays available (``event_loop = "asyncio"``) and is what runs where uvloop is
not installed (it has no Windows build).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

log = logging.getLogger(__name__)

EventLoopKind = Literal["uvloop", "asyncio"]


def install_event_loop(kind: EventLoopKind) -> EventLoopKind:
    """Make ``kind`` the loop that ``asyncio.run`` and Faust's worker create from now on; returns the one in use."""
    if kind == "asyncio":
        asyncio.set_event_loop_policy(None)
        return "asyncio"
    try:
        import uvloop
    except ImportError:
        log.warning("uvloop is not installed; using the standard asyncio event loop")
        asyncio.set_event_loop_policy(None)
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
