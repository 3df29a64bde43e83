"""ReplyGate: the topic list is cached and refreshed on a miss at most every reply_topic_refresh_s."""

from __future__ import annotations

from collections.abc import Collection

from gateway.errors import BrokerError
from gateway.settings import Settings
from streams.runtime.reply_topics import ReplyGate


class Cluster:
    """A stand-in topic lister that counts its calls (the gate's only dependency)."""

    def __init__(self, *topics: str) -> None:
        self.topics = set(topics)
        self.calls = 0
        self.down = False

    async def list_topics(self) -> Collection[str]:
        self.calls += 1
        if self.down:
            raise BrokerError("broker down")
        return set(self.topics)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def gate(cluster: Cluster, clock: Clock) -> ReplyGate:
    return ReplyGate(Settings(topics={"reply_topic_refresh_s": 5.0}), cluster.list_topics, clock=clock)


async def test_names_that_are_not_reply_topics_never_cost_a_lookup() -> None:
    cluster, clock = Cluster("llm.usage"), Clock()
    replies = gate(cluster, clock)
    assert await replies.refusal(None) is None
    assert await replies.refusal("llm.results") is None
    assert await replies.refusal("llm.usage") is not None
    assert cluster.calls == 0


async def test_an_existing_topic_is_looked_up_once_and_then_cached() -> None:
    cluster, clock = Cluster("llm.results.mine"), Clock()
    replies = gate(cluster, clock)
    assert await replies.refusal("llm.results.mine") is None
    assert await replies.refusal("llm.results.mine") is None
    assert cluster.calls == 1


async def test_misses_refresh_at_most_once_per_interval_and_see_new_topics() -> None:
    cluster, clock = Cluster(), Clock()
    replies = gate(cluster, clock)
    first = await replies.refusal("llm.results.new")
    assert first is not None and "does not exist" in first.message
    assert await replies.refusal("llm.results.new") is not None
    assert cluster.calls == 1
    cluster.topics.add("llm.results.new")
    clock.now += 5.0
    assert await replies.refusal("llm.results.new") is None
    assert cluster.calls == 2


async def test_a_broker_failure_refuses_unknown_topics_instead_of_risking_their_creation() -> None:
    cluster, clock = Cluster("llm.results.mine"), Clock()
    cluster.down = True
    replies = gate(cluster, clock)
    refusal = await replies.refusal("llm.results.mine")
    assert refusal is not None and "does not exist" in refusal.message
