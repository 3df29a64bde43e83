"""Redis commands of concurrent requests sent as one pipeline per event-loop iteration.

The in-process stages run many jobs at once, and the jobs of one fetched batch reach the cache lookup (or the
call claim) in the same loop iteration. Sent one by one, every command costs a pooled-connection checkout, a
``wait_for`` task and a ``write`` system call: ~70 us of worker CPU each on this machine, against ~17-33 us when
8-32 of them share a pipeline (``bench/FINDINGS.md``, round 4). :class:`RedisBatcher` queues every command
issued during one iteration and sends them together, non-transactionally, at the next: each caller still gets
its own reply or its own error, exactly as if it had sent the command alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

_Queued = tuple[tuple[Any, ...], "asyncio.Future[Any]", AsyncScript | None]


class RedisBatcher:
    """Runs commands for many callers over one pipeline per loop iteration; never changes what a command does."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._pending: list[_Queued] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def command(self, *args: Any) -> Any:
        """Send one command (as ``client.execute_command(*args)``) with whatever else is queued now."""
        return await self._queue(args, None)

    async def script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run a registered script by its SHA; a server that lost its scripts (restart, SCRIPT FLUSH) gets it
        again through the script's own ``EVAL`` fallback."""
        return await self._queue(("EVALSHA", script.sha, len(keys), *keys, *args), script)

    def _queue(self, args: tuple[Any, ...], script: AsyncScript | None) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((args, future, script))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._send(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _send(self, batch: list[_Queued]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for args, _, _ in batch:
            pipe.execute_command(*args)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection or the whole pipeline failed: every caller sees it
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (args, future, script), reply in zip(batch, replies, strict=True):
            if future.done():  # the caller was cancelled meanwhile
                continue
            if isinstance(reply, NoScriptError) and script is not None:
                nkeys = int(args[2])
                again = script(keys=list(args[3 : 3 + nkeys]), args=list(args[3 + nkeys :]))
                _chain(future, asyncio.ensure_future(again))
            elif isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)


def _chain(future: asyncio.Future[Any], source: asyncio.Future[Any]) -> None:
    """Resolve ``future`` with ``source``'s outcome."""

    def done(finished: asyncio.Future[Any]) -> None:
        if future.done():
            return
        if finished.cancelled():
            future.cancel()
        elif (exc := finished.exception()) is not None:
            future.set_exception(exc)
        else:
            future.set_result(finished.result())

    source.add_done_callback(done)
