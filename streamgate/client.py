"""The asyncio client: publish a request with a correlation id (its request id), await its result.

Reply path: every client instance reads **its own reply topic** (``<topics.reply_topic_prefix>client-<random>``,
created at start and deleted at close, or ``client.reply_topic`` when configured), named as each request's
``reply_to``. So a hundred instances read a hundred small topics, each only its own results, and nothing in the
wire contract or the gateway changes: the gateway already answers on any existing topic under the reply prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic_core import PydanticSerializationError

from gateway.errors import BrokerError, ConfigError
from gateway.settings import Settings, load_settings
from gateway.tenant_binding import sign
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo, LLMResult
from streamgate import kafka
from streamgate.errors import ClientClosed, InvalidClientRequest, ResultTimeout
from streamgate.replies import Reply, ReplyReader, ReplyRouter, Subscription
from streamgate.requests import Prompt, build_request

log = logging.getLogger(__name__)

STREAM_FIELD = "stream"
"""The request field that asks the gateway for chunk events (published only once the contract has it)."""


class Pending:
    """A published request: await :meth:`result`, or iterate it (chunks, then the result) when streamed."""

    def __init__(self, client: Client, request: LLMRequest, sub: Subscription, wait_until: float) -> None:
        self.request = request
        self._client = client
        self._sub = sub
        self._wait_until = wait_until  # loop time

    @property
    def id(self) -> str:
        """The request id (the correlation id)."""
        return self.request.id

    async def next(self) -> Reply:
        """The next chunk or the result; raises :class:`ResultTimeout` past the deadline (and its grace)."""
        remaining = self._wait_until - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                reply = await self._sub.queue.get()
        except TimeoutError:
            self.cancel()
            raise ResultTimeout(self.id, self._client.grace_s + remaining) from None
        if reply is None:
            raise ClientClosed("the client was closed before the result arrived")
        return reply

    async def result(self) -> LLMResult:
        """The final result (chunks, if any, are skipped)."""
        while not isinstance(reply := await self.next(), LLMResult):
            pass
        return reply

    async def __aiter__(self) -> AsyncIterator[Reply]:
        """Each chunk as it arrives, then the result."""
        while not isinstance(reply := await self.next(), LLMResult):
            yield reply
        yield reply

    def cancel(self) -> None:
        """Stop waiting (the gateway still serves and accounts the request)."""
        self._client.router.unsubscribe(self.id, self._sub)


class Client:
    """Request/reply over Kafka. Use ``async with Client(tenant="acme", user="alice") as client``.

    ``settings`` default to :func:`gateway.settings.load_settings` (environment and ``STREAMGATE_CONFIG``);
    ``bootstrap`` to ``KAFKA_BOOTSTRAP_SERVERS``; ``timeout_s`` to ``client.timeout_s``.
    """

    def __init__(
        self,
        *,
        tenant: str | None = None,
        user: str | None = None,
        bootstrap: str | None = None,
        settings: Settings | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.tenant = tenant
        self.user = user
        self.timeout_s = timeout_s if timeout_s is not None else self.settings.client.timeout_s
        self.grace_s = self.settings.client.deadline_grace_s
        self.router = ReplyRouter()
        # With [tenant_binding] mode = "hmac", requests are signed with their tenant's key (gateway.tenant_binding).
        self._tenant_keys = self.settings.tenant_binding.signing_keys()
        self.reply_topic = self._reply_topic_name()
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._created_topic = False
        self._batch: asyncio.Queue[Reply | None] = asyncio.Queue()
        self._batch_waiting: dict[str, tuple[float, Subscription]] = {}
        self._batch_deadlines: list[tuple[float, str]] = []

    def _reply_topic_name(self) -> str:
        configured = self.settings.client.reply_topic
        name = configured or f"{self.settings.topics.reply_topic_prefix}client-{uuid.uuid4().hex[:12]}"
        if not self.settings.topics.reply_topic_prefix and not configured:
            raise ConfigError("the client needs a reply topic: set client.reply_topic or topics.reply_topic_prefix")
        if not self.settings.reply_topic_allowed(name) or name == self.settings.topics.results:
            raise ConfigError(f"client reply topic {name!r} is not an allowed reply topic of its own")
        return name

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Create the reply topic (if missing), connect, and start reading replies."""
        bootstrap = kafka.bootstrap_of(self.settings, self._bootstrap)
        self._bootstrap = bootstrap
        try:
            partitions = self.settings.client.reply_topic_partitions
            self._created_topic = await kafka.create_topic(self.settings, bootstrap, self.reply_topic, partitions)
            if self._created_topic:
                # The gateway's reply gate re-lists topics at most every reply_topic_refresh_s: after that it has
                # seen this topic, so the first request is not refused as naming a missing topic.
                await asyncio.sleep(self.settings.topics.reply_topic_refresh_s)
            self._producer = kafka.new_producer(self.settings, bootstrap)
            self._consumer = kafka.new_consumer(self.settings, bootstrap)
            await kafka.start(self._producer, bootstrap)
            await kafka.start(self._consumer, bootstrap)
            reader = ReplyReader(self._consumer, self.reply_topic, self.router)
            await reader.position_at_end()
            self._reader = asyncio.create_task(reader.run(), name=f"streamgate-replies-{self.reply_topic}")
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop reading, wake every waiter with :class:`ClientClosed`, disconnect, delete a generated topic."""
        self.router.close()
        self._batch.put_nowait(None)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for part in (self._producer, self._consumer):
            if part is not None:
                await part.stop()
        self._producer = self._consumer = None
        if self._created_topic and self.settings.client.reply_topic is None and self._bootstrap:
            await kafka.delete_topic(self.settings, self._bootstrap, self.reply_topic)
            self._created_topic = False

    # --- one request ----------------------------------------------------------------------------------------

    async def send(
        self, prompt: Prompt, *, stream: bool = False, timeout_s: float | None = None, **fields: Any
    ) -> Pending:
        """Publish a request (waiting for the broker's ack) and return its :class:`Pending` reply.

        ``stream``: deliver chunk events too (and ask the gateway for them when its contract has ``stream``).
        The request's ``deadline_ms`` is now + ``timeout_s`` unless given; the wait ends ``deadline_grace_s``
        after the sooner of the two, leaving the gateway time to answer ``deadline_exceeded`` itself. An id this
        client published whose answer is still on its way is not published again (the gateway drops a duplicate of
        a request in flight): the caller shares that answer.
        """
        if stream and STREAM_FIELD in LLMRequest.model_fields:
            fields = {STREAM_FIELD: True, **fields}
        request, wait_until = self._build(prompt, timeout_s, fields)
        sub = Subscription(queue=asyncio.Queue(), chunks=stream)
        self.router.subscribe(request.id, sub)
        pending = Pending(self, request, sub, wait_until)
        await self._publish_once(request, wait_until, sub)
        return pending

    async def complete(self, prompt: Prompt, *, timeout_s: float | None = None, **fields: Any) -> LLMResult:
        """Publish a request and return its result (``ok``, ``rejected`` or ``error``; see ``result.error.code``).

        Raises :class:`ResultTimeout` when no result arrives in time.
        """
        pending = await self.send(prompt, timeout_s=timeout_s, **fields)
        try:
            return await pending.result()
        finally:
            pending.cancel()  # a cancelled caller stops listening; the id stays held until its answer

    async def stream(
        self, prompt: Prompt, *, timeout_s: float | None = None, **fields: Any
    ) -> AsyncGenerator[Reply, None]:
        """Publish a streamed request and yield each :class:`Chunk` as it arrives, then the :class:`LLMResult`.

        A gateway without streaming sends no chunk: the result is then the only item (its ``output`` whole).
        """
        pending = await self.send(prompt, stream=True, timeout_s=timeout_s, **fields)
        try:
            async for reply in pending:
                yield reply
        finally:
            pending.cancel()

    # --- batches --------------------------------------------------------------------------------------------

    async def submit(self, prompt: Prompt, *, timeout_s: float | None = None, **fields: Any) -> str:
        """Publish a request whose result :meth:`results` will yield; returns its id."""
        request, until = self._build(prompt, timeout_s, fields)
        if request.id not in self._batch_waiting:
            sub = Subscription(queue=self._batch)
            self.router.subscribe(request.id, sub)
            self._batch_waiting[request.id] = (until, sub)
            heapq.heappush(self._batch_deadlines, (until, request.id))
            await self._publish_once(request, until, sub)
        return request.id

    async def results(self) -> AsyncGenerator[LLMResult, None]:
        """The results of submitted requests, in arrival order, until none is outstanding.

        A request with no result by its deadline (plus grace) is yielded as a ``deadline_exceeded`` error result
        made by the client (``metadata["streamgate_client"] == "timeout"``).
        """
        loop = asyncio.get_running_loop()
        while self._batch_waiting:
            for expired in self._expire(loop.time()):
                yield expired
            if not self._batch_waiting:
                return
            try:
                async with asyncio.timeout(max(self._batch_deadlines[0][0] - loop.time(), 0.0)):
                    reply = await self._batch.get()
            except TimeoutError:
                continue
            if reply is None:
                raise ClientClosed("the client was closed")
            if isinstance(reply, LLMResult) and self._batch_waiting.pop(reply.id, None) is not None:
                yield reply

    def _expire(self, now: float) -> list[LLMResult]:
        expired = []
        while self._batch_deadlines and self._batch_deadlines[0][0] <= now:
            _, rid = heapq.heappop(self._batch_deadlines)
            entry = self._batch_waiting.pop(rid, None)
            if entry is None:
                continue
            self.router.unsubscribe(rid, entry[1])
            error = ErrorInfo(code=ErrorCode.DEADLINE_EXCEEDED, message=f"no result for {rid} reached the client")
            expired.append(LLMResult(id=rid, status="error", error=error, metadata={"streamgate_client": "timeout"}))
        return expired

    # --- internals ------------------------------------------------------------------------------------------

    def _build(self, prompt: Prompt, timeout_s: float | None, fields: dict[str, Any]) -> tuple[LLMRequest, float]:
        """The request and the loop time at which waiting for it ends: its deadline plus the grace, and never
        later than the timeout plus the grace (a request may carry a later ``deadline_ms`` of its own)."""
        timeout = timeout_s if timeout_s is not None else self.timeout_s
        deadline_ms = int((time.time() + timeout) * 1000)
        request = build_request(
            prompt,
            tenant=self.tenant,
            user=self.user,
            reply_to=self.reply_topic,
            deadline_ms=deadline_ms,
            fields=fields,
        )
        assert request.deadline_ms is not None
        left_s = min(request.deadline_ms / 1000 - time.time(), timeout)
        return request, asyncio.get_running_loop().time() + left_s + self.grace_s

    async def _publish_once(self, request: LLMRequest, until: float, sub: Subscription) -> None:
        """Publish ``request`` unless its id is already on its way (then ``sub`` just shares its answer)."""
        if self.router.held(request.id, asyncio.get_running_loop().time()):
            return
        self.router.hold(request.id, until)
        try:
            await self._publish(request)
        except BaseException:
            self.router.release(request.id)
            self.router.unsubscribe(request.id, sub)
            self._batch_waiting.pop(request.id, None)
            raise

    async def _publish(self, request: LLMRequest) -> None:
        if self._producer is None:
            raise ClientClosed("the client is not started: use `async with Client(...)` or `await client.start()`")
        try:
            value = request.model_dump_json(exclude_none=True).encode()
        except PydanticSerializationError as exc:  # e.g. a lone surrogate in a text: not encodable as UTF-8
            raise InvalidClientRequest(f"request {request.id} cannot be encoded as JSON: {exc}") from exc
        key = self._tenant_keys.get(request.tenant)
        headers = sign(value, request.tenant, key) if key is not None else None
        # Keyed by tenant: the gateway screens it where it lands (one hop fewer). Shielded: a caller cancelled
        # mid-send must not leave it unknown whether the request was published.
        topic, tenant = self.settings.topics.requests, request.tenant.encode()
        try:
            await asyncio.shield(self._producer.send_and_wait(topic, value, key=tenant, headers=headers))
        except KafkaError as exc:
            raise BrokerError(f"could not publish request {request.id}: {exc!r}") from exc
