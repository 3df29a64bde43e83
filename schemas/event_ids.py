"""Stable event ids: what a consumer keys on to drop a redelivered result or usage event.

An event id is a UUID v5 of the event kind and the request id, so every delivery of the same request's result (or
usage event) carries the same id, whichever worker produced it and however often it was replayed, and any
consumer can recompute it: ``uuid5(NAMESPACE_URL, "streamgate:<kind>:<request id>")`` for a result (read on the
client's own reply topic) and ``uuid5(NAMESPACE_URL, "streamgate:usage:<tenant>:<request id>")`` for a usage event:
request ids are chosen by clients, so two tenants may use the same one, and the usage topic holds every tenant's
events.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Literal

EventKind = Literal["result", "usage"]
_NAMESPACE = uuid.NAMESPACE_URL.bytes


def event_id(kind: EventKind, request_id: str, tenant: str | None = None) -> str:
    """The stable id of the ``kind`` event of request ``request_id`` (a UUID v5 string), scoped by ``tenant``
    when the event names one."""
    name = f"streamgate:{kind}:{request_id}" if tenant is None else f"streamgate:{kind}:{tenant}:{request_id}"
    return _uuid5(name)


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE_URL, name))`` (RFC 4122 section 4.3), without building a ``UUID`` object on the
    way: two per settled request, and the ``uuid`` module's path costs more than the SHA-1 it wraps."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def with_event_id(data: Any, kind: EventKind, id_field: str, tenant_field: str | None = None) -> Any:
    """``data`` (a model's raw input) with ``event_id`` filled in from ``data[id_field]`` (and ``data[tenant_field]``)
    when it is missing, so every event carries one and events written before the field existed read with the id
    they would have had."""
    if isinstance(data, dict) and not data.get("event_id") and isinstance(data.get(id_field), str):
        tenant = data.get(tenant_field) if tenant_field is not None else None
        scope = tenant if isinstance(tenant, str) else None
        return {**data, "event_id": event_id(kind, data[id_field], scope)}
    return data
