"""Idempotency: coalesce concurrent duplicates in-process, and remember answers by request id in Redis.

:class:`SingleFlight` makes concurrent calls with the same key share one execution. A
:class:`CompletionStore` keeps a finished completion per request id so that a redelivered request (a Kafka
consumer restart replays uncommitted offsets) is answered again without paying for a second provider call.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

import redis.asyncio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.providers.base import Completion
from gateway.resilience.chain import ChainLink, ResilientResult
from schemas.result import Attempt

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """Concurrent :meth:`do` calls with the same key run ``fn`` once and all get its result or its exception.

    The work runs in its own task, so one caller being cancelled does not fail the others; when every caller
    has been cancelled the work is cancelled too. The key is forgotten as soon as the work finishes, so a
    later call runs ``fn`` afresh (this coalesces, it does not cache).
    """

    def __init__(self) -> None:
        self._flights: dict[K, tuple[asyncio.Task[V], list[int]]] = {}

    def __len__(self) -> int:
        """How many keys have work in flight."""
        return len(self._flights)

    def __contains__(self, key: object) -> bool:
        return key in self._flights

    async def do(self, key: K, fn: Callable[[], Awaitable[V]]) -> V:
        """Run ``fn`` for ``key``, or join the run already in flight for it."""
        flight = self._flights.get(key)
        if flight is None:
            task: asyncio.Task[V] = asyncio.ensure_future(fn())
            flight = (task, [0])
            self._flights[key] = flight
            task.add_done_callback(functools.partial(self._forget, key))
        task, waiters = flight
        waiters[0] += 1
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done() and waiters[0] == 1:
                task.cancel()  # the last interested caller left
            raise
        finally:
            waiters[0] -= 1

    def _forget(self, key: K, done: asyncio.Task[V]) -> None:
        flight = self._flights.get(key)
        if flight is not None and flight[0] is done:
            del self._flights[key]


class StoredCompletion(BaseModel):
    """What is kept per request id to rebuild a :class:`ResilientResult` without calling a provider again."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str = Field(description="Catalog model name of the link that answered.")
    upstream_model: str = Field(description="The model name the provider reported.")
    text: str
    input_tokens: int | None
    output_tokens: int | None
    finish_reason: str | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    link_index: int = 0
    attempts: list[Attempt] = Field(default_factory=list)

    @classmethod
    def from_result(cls, result: ResilientResult) -> StoredCompletion:
        """Capture an executor result."""
        c = result.completion
        return cls(
            provider=c.provider, model=result.link.model, upstream_model=c.model, text=c.text,
            input_tokens=c.input_tokens, output_tokens=c.output_tokens, finish_reason=c.finish_reason,
            cached_input_tokens=c.cached_input_tokens, cache_write_tokens=c.cache_write_tokens,
            reasoning_tokens=c.reasoning_tokens, link_index=result.link_index, attempts=list(result.attempts),
        )  # fmt: skip

    def to_completion(self) -> Completion:
        """The provider's answer as a :class:`Completion`."""
        return Completion(
            provider=self.provider, model=self.upstream_model, text=self.text, input_tokens=self.input_tokens,
            output_tokens=self.output_tokens, finish_reason=self.finish_reason,
            cached_input_tokens=self.cached_input_tokens, cache_write_tokens=self.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens,
        )  # fmt: skip

    def to_result(self) -> ResilientResult:
        """Rebuild the executor result (``link.upstream`` is the provider-reported model name)."""
        link = ChainLink(model=self.model, provider=self.provider, upstream=self.upstream_model)
        return ResilientResult(self.to_completion(), link, self.link_index, list(self.attempts))


class CompletionStore(Protocol):
    """Finished completions by request id."""

    async def get(self, request_id: str) -> StoredCompletion | None:
        """The stored completion of ``request_id``, or ``None``."""
        ...

    async def put(self, request_id: str, completion: StoredCompletion) -> bool:
        """Store a completion unless one is already stored; ``True`` when this one was written."""
        ...


class RedisCompletionStore:
    """A :class:`CompletionStore` in Redis: one JSON string per request id under ``prefix``, expiring after
    ``ttl_s``. The first completion stored for an id wins, so duplicates racing each other agree."""

    def __init__(
        self, redis: redis.asyncio.Redis, *, prefix: str = "streamgate:completion:", ttl_s: int = 86_400
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s

    def key(self, request_id: str) -> str:
        """The Redis key of a request id."""
        return f"{self.prefix}{request_id}"

    async def get(self, request_id: str) -> StoredCompletion | None:
        """The stored completion, or ``None`` when absent, expired or unreadable (logged)."""
        return self.decode(request_id, await self._redis.get(self.key(request_id)))

    def decode(self, request_id: str, raw: bytes | str | None) -> StoredCompletion | None:
        """A stored value read elsewhere (e.g. by a claim script), or ``None`` when absent or unreadable (logged)."""
        if raw is None:
            return None
        try:
            return StoredCompletion.model_validate_json(raw)
        except ValidationError:
            log.warning("ignoring unreadable stored completion at %s", self.key(request_id), exc_info=True)
            return None

    async def put(self, request_id: str, completion: StoredCompletion) -> bool:
        """Store ``completion`` with the TTL unless the id already has one; ``True`` when written."""
        written = await self._redis.set(self.key(request_id), completion.model_dump_json(), ex=self.ttl_s, nx=True)
        return bool(written)
