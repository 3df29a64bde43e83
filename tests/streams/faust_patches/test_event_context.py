"""Acting for an event: a table write from another actor goes to the changelog partition of the named event."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.streams import current_event
from faust.tables.base import Collection

from streams.faust_patches import acting_for


class Event:
    """An event of ``streamgate.admit`` partition 5 (Faust keeps a weak reference to it)."""

    message = SimpleNamespace(topic="streamgate.admit", partition=5)


class Table:
    """What ``Collection.partition_for_key`` reads of a table."""

    use_partitioner = False

    def _verify_source_topic_partitions(self, topic: str) -> None:
        pass


def test_outside_a_stream_a_table_write_has_no_partition() -> None:
    table: Any = Table()
    try:
        Collection.partition_for_key(table, b"tenant")
    except TypeError as exc:  # upstream refuses: no current event
        assert "outside of stream iteration" in str(exc)
    else:
        raise AssertionError("partition_for_key accepted a write with no current event")


def test_acting_for_an_event_makes_it_current_and_picks_its_partition() -> None:
    event = Event()
    table: Any = Table()
    with acting_for(event):
        assert current_event() is event
        assert Collection.partition_for_key(table, b"tenant") == 5
    assert current_event() is None
