"""A blocking wrapper of :class:`streamgate.client.Client`: the client runs on an event loop in its own thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Coroutine, Iterator
from typing import Any, TypeVar

from schemas.result import LLMResult
from streamgate.client import Client
from streamgate.errors import ClientClosed
from streamgate.replies import Reply
from streamgate.requests import Prompt

T = TypeVar("T")


class SyncClient:
    """``with SyncClient(tenant="acme", user="alice") as client: client.complete("Hello")``.

    Takes the same arguments as :class:`Client`; every method blocks until the asyncio one finishes.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="streamgate-client", daemon=True)
        self._client: Client | None = None

    def __enter__(self) -> SyncClient:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def reply_topic(self) -> str:
        """The reply topic of the underlying client."""
        return self._started().reply_topic

    def start(self) -> None:
        """Start the loop thread and the client."""
        self._thread.start()

        async def make() -> Client:
            client = Client(**self._kwargs)
            await client.start()
            return client

        try:
            self._client = self._run(make())
        except BaseException:
            self._stop_loop()
            raise

    def close(self) -> None:
        """Close the client and stop its thread."""
        if self._client is not None:
            self._run(self._client.close())
            self._client = None
        self._stop_loop()

    def complete(self, prompt: Prompt, *, timeout_s: float | None = None, **fields: Any) -> LLMResult:
        """See :meth:`Client.complete`."""
        return self._run(self._started().complete(prompt, timeout_s=timeout_s, **fields))

    def submit(self, prompt: Prompt, *, timeout_s: float | None = None, **fields: Any) -> str:
        """See :meth:`Client.submit`."""
        return self._run(self._started().submit(prompt, timeout_s=timeout_s, **fields))

    def results(self) -> Iterator[LLMResult]:
        """See :meth:`Client.results`."""
        return self._iterate(self._started().results())

    def stream(self, prompt: Prompt, *, timeout_s: float | None = None, **fields: Any) -> Iterator[Reply]:
        """See :meth:`Client.stream`."""
        return self._iterate(self._started().stream(prompt, timeout_s=timeout_s, **fields))

    def _iterate(self, items: AsyncGenerator[T, None]) -> Iterator[T]:
        async def step() -> T:
            return await anext(items)

        try:
            while True:
                try:
                    yield self._run(step())
                except StopAsyncIteration:
                    return
        finally:
            self._run(items.aclose())

    def _started(self) -> Client:
        if self._client is None:
            raise ClientClosed("the client is not started: use `with SyncClient(...)`")
        return self._client

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _stop_loop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()
