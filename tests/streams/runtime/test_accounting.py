"""Settling in place: usage applied once, after delivery, only while this worker owns the tenant's partition.

Faust is replaced by the few attributes the accountant reads (rebalancing, the assignor, topics that send), and
the tables by dicts, so the ordering of emit -> deliver -> apply -> ack can be checked step by step.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import pytest
from faust.types import TP

from gateway.settings import Settings, load_settings
from schemas.internal import Settlement
from streams.runtime.accounting import Accountant
from streams.runtime.topics import Topics
from streams.state.ledger import Ledger
from streams.state.limits_ledger import LimitsLedger
from streams.state.records import load_record, record_key
from tests.support.factories import make_request, make_settlement, plan_for

ADMIT = "streamgate.admit"


@dataclass
class FakeTopic:
    """Records what is sent; every send is "delivered" when the test resolves its future."""

    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)
    futures: list[asyncio.Future[None]] = field(default_factory=list)

    async def send(self, key: bytes | None, value: bytes, headers: Any = None) -> asyncio.Future[None]:
        self.sent.append((key, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future

    def deliver(self) -> None:
        for future in self.futures:
            if not future.done():
                future.set_result(None)


@dataclass
class FakeTopics:
    results: FakeTopic = field(default_factory=FakeTopic)
    usage: FakeTopic = field(default_factory=FakeTopic)
    settle: FakeTopic = field(default_factory=FakeTopic)

    def reply(self, name: str) -> FakeTopic:
        return self.results


@dataclass
class FakeAssignor:
    actives: set[TP]

    def assigned_actives(self) -> set[TP]:
        return self.actives


@dataclass
class FakeApp:
    assignor: FakeAssignor
    rebalancing: bool = False
    rebalancing_count: int = 0

    def reassign(self, actives: set[TP]) -> None:
        """A finished rebalance: Faust counts it, then the assignment changes."""
        self.rebalancing_count += 1
        self.assignor.actives = actives


@dataclass
class Message:
    topic: str
    partition: int


@dataclass
class AdmitEvent:
    message: Message = field(default_factory=lambda: Message(ADMIT, 3))
    acks: int = 0

    def ack(self) -> bool:
        self.acks += 1
        return True


class World:
    """An accountant over dict tables, owning partition 3 of the admit topic."""

    def __init__(self, settings: Settings) -> None:
        self.records: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.settings = settings
        self.ledger = Ledger(self.records, LimitsLedger(self.usage, settings))
        self.app = FakeApp(FakeAssignor({TP(ADMIT, 3)}))
        self.topics = FakeTopics()
        self.accountant = Accountant(cast(Any, self.app), settings, cast(Topics, self.topics), self.ledger)
        self.released = 0

    def release(self, *_: object) -> None:
        self.released += 1

    def admitted(self) -> Settlement:
        """A request admitted (reservation written) and answered, ready to settle."""
        request = make_request("hello world", max_tokens=100)
        plan = plan_for(request, self.settings)
        admission = self.ledger.admit(request, 17, None, 1_700_000_000.0, partition=3, plan=plan)
        assert admission.reservation is not None
        return make_settlement(request, reservation=admission.reservation, input_tokens=8, output_tokens=20)

    def state(self, settlement: Settlement) -> str:
        request = settlement.request
        return load_record(self.records[record_key(request.tenant, request.id)]).state

    def in_flight(self) -> int:
        return int(self.usage[make_request("x").tenant]["inflight"])


@pytest.fixture
def world() -> World:
    return World(load_settings())


async def turns() -> None:
    """Let the delivery callbacks (gather -> done callback -> task) run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def settle_in_place(world: World, settlement: Settlement, event: AdmitEvent) -> None:
    await world.accountant.settle(settlement, event, world.release, in_place=True)


async def test_usage_is_applied_after_delivery_in_one_step_with_done(world: World) -> None:
    settlement, event = world.admitted(), AdmitEvent()
    await settle_in_place(world, settlement, event)
    assert len(world.topics.results.sent) == 1 and len(world.topics.usage.sent) == 1
    assert world.state(settlement) == "reserved" and world.in_flight() == 1 and event.acks == 0  # not yet delivered
    world.topics.results.deliver()
    world.topics.usage.deliver()
    await turns()
    assert world.state(settlement) == "done" and world.in_flight() == 0
    assert event.acks == 1 and world.released == 1 and not world.topics.settle.sent


async def test_a_partition_lost_before_delivery_hands_the_usage_to_its_new_owner(world: World) -> None:
    settlement, event = world.admitted(), AdmitEvent()
    await settle_in_place(world, settlement, event)
    world.app.rebalancing = True  # the tables may be recovering: no write from here on
    world.topics.results.deliver()
    world.topics.usage.deliver()
    await turns()
    assert world.state(settlement) == "reserved" and world.in_flight() == 1
    assert event.acks == 0 and world.released == 0
    ((key, value),) = world.topics.settle.sent
    handed = Settlement.model_validate_json(value)
    assert key == settlement.request.tenant.encode() and handed.delivered and handed.request == settlement.request
    world.topics.settle.deliver()
    await turns()
    assert event.acks == 1 and world.released == 1


async def test_the_new_owner_applies_a_handed_over_settlement_without_a_second_result(world: World) -> None:
    settlement = world.admitted().model_copy(update={"delivered": True})
    event = AdmitEvent(Message("streamgate.settle", 3))
    world.app.reassign({TP(ADMIT, 3), TP("streamgate.settle", 3)})
    await world.accountant.settle(settlement, event, world.release, in_place=False)
    assert world.state(settlement) == "done" and world.in_flight() == 0 and event.acks == 1
    assert not world.topics.results.sent and not world.topics.usage.sent
    await world.accountant.settle(settlement, event, world.release, in_place=False)  # a replay changes nothing
    assert world.state(settlement) == "done" and event.acks == 2 and not world.topics.results.sent


async def test_ownership_follows_each_rebalance(world: World) -> None:
    event = AdmitEvent()
    assert world.accountant.owns(event)
    world.app.rebalancing = True
    assert not world.accountant.owns(event)
    world.app.rebalancing = False
    world.app.reassign({TP(ADMIT, 4)})
    assert not world.accountant.owns(event)
    assert world.accountant.owns(AdmitEvent(Message(ADMIT, 4)))
    world.app.reassign({TP(ADMIT, 3)})
    assert world.accountant.owns(event)


async def test_a_failed_delivery_leaves_the_reservation_and_the_event_unacked(world: World) -> None:
    settlement, event = world.admitted(), AdmitEvent()
    await settle_in_place(world, settlement, event)
    world.topics.results.futures[0].set_exception(RuntimeError("broker gone"))
    world.topics.usage.deliver()
    await turns()
    assert world.state(settlement) == "reserved" and event.acks == 0 and world.released == 1


async def test_usage_event_carries_the_charge(world: World) -> None:
    settlement, event = world.admitted(), AdmitEvent()
    await settle_in_place(world, settlement, event)
    usage = orjson.loads(world.topics.usage.sent[0][1])
    assert usage["input_tokens"] == 8 and usage["output_tokens"] == 20 and usage["cost_usd"] > 0
