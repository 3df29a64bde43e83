"""Bounded shutdown: a worker told to stop exits within ``shutdown_timeout_s`` even when Faust's stop hangs.

With the broker gone, Faust's stop waits on consumer and producer calls that retry forever, so SIGTERM left the
worker running. Exiting without a clean stop is safe here: nothing is acked before its outputs are on the broker,
so whatever was in flight is replayed by the next owner of its partitions (at-least-once, README "Delivery").
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import faust

log = logging.getLogger(__name__)

EXIT_AFTER_TIMEOUT = 1
"""Exit status of a worker whose stop did not finish in time (a supervisor sees an unclean stop)."""


class BoundedShutdownWorker(faust.Worker):
    """A Faust worker whose stop, once begun (SIGTERM, SIGINT or a crash), ends the process within a bound."""

    def __init__(self, *services: Any, shutdown_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*services, **kwargs)
        self._shutdown_timeout_s = shutdown_timeout_s
        self._watchdog: threading.Timer | None = None

    async def on_stop(self) -> None:
        """Arm the watchdog (a daemon thread: it works however stuck the event loop is), then stop as usual."""
        if self._watchdog is None:
            self._watchdog = threading.Timer(self._shutdown_timeout_s, _exit_now, args=(self._shutdown_timeout_s,))
            self._watchdog.daemon = True
            self._watchdog.start()
        await super().on_stop()


def _exit_now(timeout_s: float) -> None:
    log.error("worker stop did not finish within %.0f s (is the broker reachable?); exiting now", timeout_s)
    logging.shutdown()
    os._exit(EXIT_AFTER_TIMEOUT)
