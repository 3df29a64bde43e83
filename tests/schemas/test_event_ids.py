"""Stable event ids: the same on every delivery of a request's result or usage event, different across kinds."""

from __future__ import annotations

import random
import string
import uuid

from schemas.event_ids import event_id
from schemas.result import LLMResult
from schemas.usage import UsageEvent

USAGE = {
    "request_id": "order-1",
    "tenant": "acme",
    "user": "alice",
    "task": "chat",
    "model": None,
    "provider": None,
    "status": "rejected",
    "input_tokens": 0,
    "output_tokens": 0,
    "cost_usd": 0.0,
    "cached": False,
    "latency_ms": 1.0,
    "attempts": 0,
    "ts_ms": 1,
}


def test_a_result_built_twice_carries_the_same_event_id_and_keeps_it_on_the_wire() -> None:
    first = LLMResult(id="order-1", status="ok", output="a")
    again = LLMResult(id="order-1", status="ok", output="b", latency_ms=9.0)  # a redelivery computed later
    assert first.event_id == again.event_id == event_id("result", "order-1")
    assert LLMResult.model_validate_json(first.model_dump_json()).event_id == first.event_id


def test_the_id_is_a_uuid5_any_consumer_can_recompute() -> None:
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, "streamgate:usage:acme:order-1"))
    assert UsageEvent.model_validate(USAGE).event_id == expected


def test_two_tenants_using_the_same_request_id_get_different_usage_event_ids() -> None:
    """Request ids are the clients' choice: a consumer deduplicating the usage topic must not drop another
    tenant's event."""
    other = UsageEvent.model_validate({**USAGE, "tenant": "globex"})
    assert other.event_id != UsageEvent.model_validate(USAGE).event_id
    assert other.event_id == event_id("usage", "order-1", "globex")


def test_kinds_and_requests_get_different_ids() -> None:
    ids = {event_id("result", "order-1"), event_id("usage", "order-1"), event_id("result", "order-2")}
    assert len(ids) == 3


def test_an_event_written_before_the_field_existed_reads_with_its_derived_id() -> None:
    old = LLMResult.model_validate_json(b'{"v": 1, "id": "order-1", "status": "ok"}')
    assert old.event_id == event_id("result", "order-1")


def test_a_given_event_id_is_kept() -> None:
    assert UsageEvent.model_validate({**USAGE, "event_id": "given"}).event_id == "given"


def test_ids_equal_the_uuid_modules_uuid5_for_any_id_and_tenant() -> None:
    """The id is computed without ``uuid.uuid5`` (cheaper): it must stay the very same string."""
    rng = random.Random(19)
    alphabet = string.ascii_letters + string.digits + "._:-|é中🙂"
    for _ in range(2_000):
        request_id = "".join(rng.choices(alphabet, k=rng.randint(1, 128)))
        tenant = "".join(rng.choices(alphabet, k=rng.randint(1, 40)))
        assert event_id("result", request_id) == str(uuid.uuid5(uuid.NAMESPACE_URL, f"streamgate:result:{request_id}"))
        scoped = str(uuid.uuid5(uuid.NAMESPACE_URL, f"streamgate:usage:{tenant}:{request_id}"))
        assert event_id("usage", request_id, tenant) == scoped
