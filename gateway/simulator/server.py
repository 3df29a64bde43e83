"""The simulator's HTTP server: an aiohttp app speaking OpenAI's and Anthropic's wire formats plus ``/_sim/``.

In-process use (tests)::

    async with SimulatorServer(port=0, config=SimulatorConfig(latency_ms=5)) as sim:
        client = openai.AsyncOpenAI(base_url=sim.openai_base_url, api_key="sk-test")
        sim.set_fault("gpt-4o-mini", fail_next=2)
        ...
        assert sim.stats.calls_for("req-1") == 3

As a process (``streamgate simulate``): :func:`run` (blocking) or :func:`serve_forever` (async).

Every wait is an ``asyncio.sleep`` and access logging is off, so one process holds thousands of concurrent
slow calls; handlers are cancelled when their client disconnects, so abandoned (``hang``) calls cost nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from gateway.simulator import admin, anthropic_api, batches, openai_api
from gateway.simulator.calls import STATE_KEY, SimState
from gateway.simulator.config import SimulatorConfig
from gateway.simulator.faults import FaultRegistry, FaultSpec
from gateway.simulator.stats import SimStats
from gateway.tokens import count_text

log = logging.getLogger(__name__)

_MAX_BODY_BYTES = 16 * 1024 * 1024
_BACKLOG = 4096


def build_app(state: SimState) -> web.Application:
    """The aiohttp application of one simulator, sharing ``state`` between its handlers."""
    app = web.Application(client_max_size=_MAX_BODY_BYTES)
    app[STATE_KEY] = state
    openai_api.add_routes(app)
    anthropic_api.add_routes(app)
    batches.add_routes(app)
    admin.add_routes(app)
    return app


class SimulatorServer:
    """A running provider simulator; an async context manager that starts and stops it.

    ``port=0`` picks a free port; :attr:`port` and the URLs report the real one once started.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: SimulatorConfig | None = None) -> None:
        self.host = host
        self.port = port
        self.config = config or SimulatorConfig()
        self.stats = SimStats(max_request_ids=self.config.max_tracked_request_ids)
        self.faults = FaultRegistry(
            seed=self.config.seed,
            initial=self.config.faults,
            base_latency_ms=self.config.latency_ms,
            base_jitter_ms=self.config.jitter_ms,
        )
        self.batches = batches.BatchBook(delay_ms=self.config.batch_delay_ms, seed=self.config.seed)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and start serving (idempotent)."""
        if self._runner is not None:
            return
        count_text("warm up")  # load the tokenizer now, not on the first call
        app = build_app(SimState(config=self.config, stats=self.stats, faults=self.faults, batches=self.batches))
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=_BACKLOG, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("provider simulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving; calls still in flight are cancelled after a short grace period."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (raises :class:`RuntimeError` before :meth:`start`)."""
        if self._runner is None:
            raise RuntimeError("the simulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` for ``openai.AsyncOpenAI`` (``…/v1``)."""
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The ``base_url`` for ``anthropic.AsyncAnthropic`` (the root: the SDK appends ``/v1/messages``)."""
        return self.base_url

    def set_fault(self, model: str, *, replace: bool = False, **fields: Any) -> FaultSpec:
        """Set faults of ``model`` (or ``"*"``); see :class:`FaultSpec` for the fields."""
        return self.faults.set(model, replace=replace, **fields)

    def clear_faults(self, model: str | None = None) -> None:
        """Clear the faults of ``model``, or all of them."""
        self.faults.clear(model)

    def reset(self) -> None:
        """Clear the stats and put the faults back to the configured initial ones."""
        self.stats.reset()
        self.faults.reset()


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8787,
    config: SimulatorConfig | None = None,
    *,
    ready: Callable[[SimulatorServer], None] | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM if ``handle_signals``); ``ready`` gets the server."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        async with SimulatorServer(host, port, config) as sim:
            if ready is not None:
                ready(sim)
            await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def _announce(sim: SimulatorServer) -> None:
    print(f"streamgate provider simulator on {sim.base_url}", flush=True)
    print(f"  OPENAI_BASE_URL={sim.openai_base_url}", flush=True)
    print(f"  ANTHROPIC_BASE_URL={sim.anthropic_base_url}", flush=True)
    print(f"  admin: {sim.base_url}/_sim/stats  (faults: POST {sim.base_url}/_sim/faults)", flush=True)


def run(host: str = "127.0.0.1", port: int = 8787, config: SimulatorConfig | None = None) -> None:
    """Blocking entry point of ``streamgate simulate``: serve until interrupted, printing the URLs to use."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(host, port, config, ready=_announce))
