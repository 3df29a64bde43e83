"""after_delivery: ack only once everything derived from an event is on the broker, in the caller's context."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError

from streams.runtime.delivery import after_delivery, send, undeliverable

CURRENT_EVENT: contextvars.ContextVar[str] = contextvars.ContextVar("CURRENT_EVENT", default="none")


class Outcome:
    """What the callbacks saw."""

    def __init__(self) -> None:
        self.delivered = 0
        self.failures: list[BaseException] = []

    def on_delivered(self) -> None:
        self.delivered += 1

    def on_failed(self, exc: BaseException) -> None:
        self.failures.append(exc)


def futures(n: int) -> list[asyncio.Future[Any]]:
    loop = asyncio.get_running_loop()
    return [loop.create_future() for _ in range(n)]


async def settle_callbacks() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_the_callback_runs_only_once_every_future_succeeded() -> None:
    outcome = Outcome()
    pending = futures(3)
    after_delivery(pending, outcome.on_delivered, what="t", on_failed=outcome.on_failed)
    pending[0].set_result("md0")
    pending[2].set_result("md2")
    await settle_callbacks()
    assert outcome.delivered == 0
    pending[1].set_result("md1")
    await settle_callbacks()
    assert outcome.delivered == 1 and outcome.failures == []


async def test_a_failed_delivery_runs_on_failed_and_never_acks(caplog: pytest.LogCaptureFixture) -> None:
    outcome = Outcome()
    pending = futures(2)
    after_delivery(pending, outcome.on_delivered, what="settlement of r1", on_failed=outcome.on_failed)
    boom = ConnectionError("broker gone")
    with caplog.at_level(logging.ERROR, logger="streams.runtime.delivery"):
        pending[0].set_exception(boom)
        pending[1].set_result("md")
        await settle_callbacks()
    assert outcome.delivered == 0 and outcome.failures == [boom]
    assert "settlement of r1" in caplog.text


async def test_a_failed_delivery_without_on_failed_only_logs() -> None:
    outcome = Outcome()
    pending = futures(1)
    after_delivery(pending, outcome.on_delivered, what="t")
    pending[0].set_exception(RuntimeError("nope"))
    await settle_callbacks()
    assert outcome.delivered == 0


async def test_a_cancelled_delivery_counts_as_failed() -> None:
    outcome = Outcome()
    pending = futures(1)
    after_delivery(pending, outcome.on_delivered, what="t", on_failed=outcome.on_failed)
    pending[0].cancel()
    await settle_callbacks()
    assert outcome.delivered == 0
    assert len(outcome.failures) == 1 and isinstance(outcome.failures[0], asyncio.CancelledError)


async def test_the_callback_sees_the_callers_context() -> None:
    seen: list[str] = []
    pending = futures(1)

    async def caller() -> None:
        CURRENT_EVENT.set("event@offset-7")
        after_delivery(pending, lambda: seen.append(CURRENT_EVENT.get()), what="t")
        CURRENT_EVENT.set("the next event")  # the callback keeps the context of its own event

    await asyncio.create_task(caller())  # its own context copy: the set() does not leak out here
    assert CURRENT_EVENT.get() == "none"
    pending[0].set_result(None)
    await settle_callbacks()
    assert seen == ["event@offset-7"]


async def test_send_queues_on_the_topic_and_returns_its_future() -> None:
    calls: list[dict[str, Any]] = []
    marker = object()

    class FakeTopic:
        async def send(self, **kwargs: Any) -> object:
            calls.append(kwargs)
            return marker

    assert await send(FakeTopic(), b"k", b"v", [("h", b"1")]) is marker
    assert calls == [{"key": b"k", "value": b"v", "headers": [("h", b"1")]}]


def test_a_record_too_large_is_undeliverable_even_wrapped_by_faust() -> None:
    try:
        try:
            raise MessageSizeTooLargeError("3 MB")
        except MessageSizeTooLargeError as cause:
            raise ProducerSendError("Error while sending") from cause
    except ProducerSendError as wrapped:
        assert undeliverable(wrapped)
    assert undeliverable(MessageSizeTooLargeError())


def test_a_broker_that_went_away_is_retriable_not_undeliverable() -> None:
    assert not undeliverable(KafkaConnectionError("gone"))
    assert not undeliverable(ConnectionError("gone"))
