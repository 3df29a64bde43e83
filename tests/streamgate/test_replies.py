"""The reply router: results reach every waiter of their id once; chunks in order, once; junk is skipped."""

from __future__ import annotations

import asyncio

import orjson

from schemas.result import LLMResult
from streamgate.replies import Chunk, ReplyRouter, Subscription


def result(rid: str, output: str = "hi") -> bytes:
    return LLMResult(id=rid, status="ok", output=output).model_dump_json().encode()


def chunk(rid: str, seq: int, delta: str) -> bytes:
    return orjson.dumps({"v": 1, "id": rid, "type": "chunk", "seq": seq, "delta": delta})


def drain(sub: Subscription) -> list[object]:
    items = []
    while not sub.queue.empty():
        items.append(sub.queue.get_nowait())
    return items


def test_a_result_reaches_every_waiter_of_its_id_once_and_nobody_else() -> None:
    router = ReplyRouter()
    a1, a2, b = (Subscription(queue=asyncio.Queue()) for _ in range(3))
    router.subscribe("a", a1)
    router.subscribe("a", a2)
    router.subscribe("b", b)
    router.deliver(result("a"))
    router.deliver(result("a", "a duplicate"))  # at-least-once: a second delivery is dropped
    router.deliver(result("c"))  # nobody waits for it
    assert [r.output for r in drain(a1)] == ["hi"] == [r.output for r in drain(a2)]  # type: ignore[attr-defined]
    assert drain(b) == [] and router.waiting("b") and not router.waiting("a")


def test_chunks_go_only_to_streaming_waiters_in_order_without_repeats() -> None:
    router = ReplyRouter()
    streaming, plain = Subscription(queue=asyncio.Queue(), chunks=True), Subscription(queue=asyncio.Queue())
    router.subscribe("s", streaming)
    router.subscribe("s", plain)
    for raw in (chunk("s", 0, "Hel"), chunk("s", 1, "lo"), chunk("s", 1, "lo"), result("s")):
        router.deliver(raw)
    items = drain(streaming)
    assert items[:2] == [Chunk(id="s", seq=0, delta="Hel"), Chunk(id="s", seq=1, delta="lo")]
    assert isinstance(items[2], LLMResult) and len(items) == 3
    assert [type(i) for i in drain(plain)] == [LLMResult]


def test_seq_zero_again_is_a_restart_handed_on_as_a_reset() -> None:
    router = ReplyRouter()
    sub = Subscription(queue=asyncio.Queue(), chunks=True)
    router.subscribe("s", sub)
    for raw in (chunk("s", 0, "Hel"), chunk("s", 1, "lo"), chunk("s", 0, "Hello"), chunk("s", 1, " again")):
        router.deliver(raw)
    assert [(c.seq, c.delta, c.reset) for c in drain(sub)] == [  # type: ignore[attr-defined]
        (0, "Hel", False),
        (1, "lo", False),
        (0, "Hello", True),
        (1, " again", False),
    ]


def test_a_record_that_is_not_an_event_is_skipped() -> None:
    router = ReplyRouter()
    sub = Subscription(queue=asyncio.Queue(), chunks=True)
    router.subscribe("x", sub)
    for raw in (None, b"", b"not json", b"[1]", b'{"id": "x", "type": "chunk"}', b'{"id": "x", "status": "maybe"}'):
        router.deliver(raw)
    assert drain(sub) == [] and router.waiting("x")


def test_close_wakes_every_waiter_with_none() -> None:
    router = ReplyRouter()
    sub = Subscription(queue=asyncio.Queue())
    router.subscribe("x", sub)
    router.close()
    assert drain(sub) == [None] and router.pending() == 0


def test_a_published_id_stays_held_until_its_result_or_its_wait_ends() -> None:
    router = ReplyRouter()
    router.hold("a", until=10.0)
    router.hold("b", until=10.0)
    assert router.held("a", now=1.0)  # nobody subscribed any more, but the answer is still on its way
    router.deliver(result("a"))
    assert not router.held("a", now=1.0) and router.held("b", now=9.9)
    assert not router.held("b", now=10.0)
