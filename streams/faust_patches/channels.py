"""In-process edges between stages: Faust channels whose buffer survives a rebalance.

A plain ``app.channel()`` buffers in a ``FlowControlQueue(clear_on_resume=True)``: after a rebalance it silently
drops whatever was queued. For Kafka-sourced events that is harmless (they are re-fetched); for our jobs it would
strand requests whose source events are still unacknowledged. This channel keeps its queue across rebalances.
"""

from __future__ import annotations

from typing import Any

import faust
from mode.utils.queues import ThrowableQueue


class StageChannel(faust.Channel[Any]):
    """An in-memory channel between two stage agents that never clears its buffer on resume."""

    @property
    def queue(self) -> ThrowableQueue[Any]:
        """The bounded buffer shared by every actor of the consuming agent."""
        if self._queue is None:
            maxsize = self.maxsize if self.maxsize is not None else self.app.conf.stream_buffer_maxsize
            self._queue = self.app.FlowControlQueue(maxsize=maxsize, clear_on_resume=False)
        return self._queue


def stage_channel(app: faust.App, *, maxsize: int) -> Any:
    """A new in-process edge of the given capacity."""
    return StageChannel(app, maxsize=maxsize)
