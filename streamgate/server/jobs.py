"""Async mode (``Prefer: respond-async``): the state of accepted requests, kept in Redis so any front-door
instance can answer ``GET /v1/requests/{id}``.

A record is ``{"status": "pending", "format"}`` from acceptance until the answer arrives, then
``{"status": "completed", "format", "http_status", "response"}`` for ``serve.async_result_ttl_s``. Keys are scoped
by tenant and user (``sg:serve:v1:<tenant>:<user>:<id>``): a key never reads another principal's request.
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.errors import StreamgateError
from streamgate.server.keys import Principal


class JobStoreUnavailable(StreamgateError):
    """Redis could not be reached: async mode cannot accept or report requests meanwhile."""


class JobStore:
    """Pending and finished async requests in Redis."""

    def __init__(self, redis: aioredis.Redis, *, result_ttl_s: int, pending_ttl_s: int) -> None:
        self._redis = redis
        self._result_ttl_s = result_ttl_s
        self._pending_ttl_s = pending_ttl_s

    @staticmethod
    def key(principal: Principal, request_id: str) -> str:
        """The Redis key of one request's record."""
        return f"sg:serve:v1:{principal.tenant}:{principal.user}:{request_id}"

    async def get(self, principal: Principal, request_id: str) -> dict[str, Any] | None:
        """The record of ``request_id``, or ``None`` when unknown or expired."""
        try:
            raw = await self._redis.get(self.key(principal, request_id))
        except RedisError as exc:
            raise JobStoreUnavailable(f"the async request store is unavailable: {exc}") from exc
        if raw is None:
            return None
        record: dict[str, Any] = orjson.loads(raw)
        return record

    async def accept(self, principal: Principal, request_id: str, wire_format: str) -> bool:
        """Record ``request_id`` as pending unless it has a record already; whether this call recorded it."""
        record = orjson.dumps({"status": "pending", "format": wire_format})
        try:
            stored = await self._redis.set(self.key(principal, request_id), record, nx=True, ex=self._pending_ttl_s)
        except RedisError as exc:
            raise JobStoreUnavailable(f"the async request store is unavailable: {exc}") from exc
        return bool(stored)

    async def finish(
        self, principal: Principal, request_id: str, wire_format: str, http_status: int, response: dict[str, Any]
    ) -> None:
        """Store the finished answer for ``serve.async_result_ttl_s``."""
        record = {"status": "completed", "format": wire_format, "http_status": http_status, "response": response}
        try:
            await self._redis.set(self.key(principal, request_id), orjson.dumps(record), ex=self._result_ttl_s)
        except RedisError as exc:
            raise JobStoreUnavailable(f"could not store the answer of {request_id}: {exc}") from exc

    async def forget(self, principal: Principal, request_id: str) -> None:
        """Drop a pending record whose request could not be published."""
        with contextlib.suppress(RedisError):  # else it expires with its TTL
            await self._redis.delete(self.key(principal, request_id))
