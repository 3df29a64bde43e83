"""The stage channel: Faust's ``app.channel()`` drops its buffer when the app resumes after a rebalance; ours
keeps it."""

from __future__ import annotations

import faust

from streams.faust_patches import stage_channel


def rebalance(app: faust.App) -> None:
    """What Faust's consumer does to flow control around a rebalance."""
    app.flow_control.suspend()
    app.flow_control.resume()


async def test_upstream_channel_drops_its_buffer_on_resume() -> None:
    app = faust.App("test-channels-upstream", broker="kafka://127.0.0.1:1")
    queue = app.channel(maxsize=8).queue
    queue.put_nowait("job")
    rebalance(app)
    assert queue.qsize() == 0  # a job whose source event is still unacked, stranded


async def test_stage_channel_keeps_its_buffer_across_a_rebalance() -> None:
    app = faust.App("test-channels-ours", broker="kafka://127.0.0.1:1")
    channel = stage_channel(app, maxsize=8)
    queue = channel.queue
    assert channel.queue is queue and queue.maxsize == 8
    queue.put_nowait("job")
    rebalance(app)
    assert queue.get_nowait() == "job"
