"""Which requests are screened where they land, and how their ledger positions stay apart from admit offsets."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from streams.runtime.direct import direct_position, partition_for, screens_directly
from streams.state.ledger_plan import ScreenPlan, plan_screen
from streams.state.records import RequestRecord

PARTITIONS = 8


@pytest.mark.parametrize("key", [b"acme", b"budget-co", b"t", "t\u00e9nant-\u00fc".encode(), b"x" * 300])
def test_partition_matches_kafkas_default_partitioner(key: bytes) -> None:
    every = list(range(PARTITIONS))
    assert partition_for(key, PARTITIONS) == DefaultPartitioner()(key, every, every)


def _direct(key: bytes | None, partition: int, topic_partitions: int | None = PARTITIONS) -> bool:
    return screens_directly(
        key=key,
        partition=partition,
        tenant="acme",
        topic_partitions=lambda: topic_partitions,
        table_partitions=PARTITIONS,
    )


def test_a_request_keyed_by_its_tenant_on_the_tenants_partition_is_screened_where_it_is() -> None:
    assert _direct(b"acme", partition_for(b"acme", PARTITIONS))


def test_anything_else_takes_the_admit_hop() -> None:
    home = partition_for(b"acme", PARTITIONS)
    assert not _direct(None, home)  # unkeyed
    assert not _direct(b"other", partition_for(b"other", PARTITIONS))  # keyed by something else
    assert not _direct(b"acme", (home + 1) % PARTITIONS)  # another partitioner (e.g. librdkafka's crc32)
    assert not _direct(b"acme", home, topic_partitions=16)  # request topic not co-partitioned with the tables
    assert not _direct(b"acme", home, topic_partitions=None)  # partition count not known yet


def test_the_topic_is_looked_up_only_for_requests_keyed_by_their_tenant() -> None:
    def unexpected() -> int:
        raise AssertionError("looked up")

    for key in (None, b"other"):
        assert not screens_directly(
            key=key, partition=0, tenant="acme", topic_partitions=unexpected, table_partitions=PARTITIONS
        )


def test_direct_positions_never_equal_an_admit_offset() -> None:
    assert {direct_position(o) for o in range(1000)}.isdisjoint(range(1000))
    assert direct_position(0) == -1 and direct_position(41) == -42


def test_a_finished_request_republished_on_the_other_path_is_answered_again_not_skipped() -> None:
    done_via_admit = RequestRecord("done", 5, 1_700_000_000.0)
    assert plan_screen(done_via_admit, 5, False) is ScreenPlan.SKIP  # the same admit event, redelivered
    assert plan_screen(done_via_admit, direct_position(5), False) is ScreenPlan.REANSWER
    done_directly = RequestRecord("done", direct_position(5), 1_700_000_000.0)
    assert plan_screen(done_directly, direct_position(5), False) is ScreenPlan.SKIP
    assert plan_screen(done_directly, 5, False) is ScreenPlan.REANSWER
