"""The declared topology: every stage is on the path, and only key/owner changes cross Kafka."""

from __future__ import annotations

import itertools

from gateway.settings import TopicNames
from streams.runtime.topology import EDGES, STAGES, describe, inproc_chain

# The edges that must be topics: the public contract, and the hops into the two stages that own the ledger
# tables (screen writes reservations, account settles them), which re-key by tenant.
KAFKA_EDGES = {
    ("client", "intake"),
    ("intake", "screen"),
    ("validate", "account"),
    ("complete", "client"),  # a streamed answer's chunks
    ("account", "client"),
    ("account", "analysts"),
}


def test_every_stage_is_on_the_path_in_order() -> None:
    hops = {(e.source, e.target) for e in EDGES}
    assert ("client", STAGES[0]) in hops
    for source, target in itertools.pairwise(STAGES):
        assert (source, target) in hops, f"{source} -> {target} is missing"
    assert {e.source for e in EDGES} | {e.target for e in EDGES} >= set(STAGES)


def test_kafka_edges_are_exactly_the_key_or_owner_changes() -> None:
    assert {(e.source, e.target) for e in EDGES if e.kind == "kafka"} == KAFKA_EDGES
    assert all(e.kind in ("kafka", "inproc") for e in EDGES)


def test_internal_topics_are_the_configured_ones_keyed_by_tenant() -> None:
    names = TopicNames()
    internal = {(e.source, e.target): e for e in EDGES if e.topic.startswith("streamgate.")}
    assert internal[("intake", "screen")].topic == names.admit
    assert internal[("validate", "account")].topic == names.settle
    assert all(e.key == "tenant" for e in internal.values())


def test_settlement_is_in_place_with_the_settle_topic_as_the_fallback() -> None:
    kinds = {e.kind for e in EDGES if (e.source, e.target) == ("validate", "account")}
    assert kinds == {"inproc", "kafka"}
    assert inproc_chain("screen") == ("cache", "complete", "validate")


def test_intake_screens_directly_or_re_keys_through_admit() -> None:
    kinds = {e.kind for e in EDGES if (e.source, e.target) == ("intake", "screen")}
    assert kinds == {"inproc", "kafka"}


def test_in_process_edges_have_no_topic_or_key() -> None:
    inproc = [e for e in EDGES if e.kind == "inproc"]
    assert inproc and all(e.topic == "-" and e.key == "-" for e in inproc)
    assert all(e.source in STAGES and e.target in STAGES for e in inproc)


def test_describe_prints_one_line_per_edge() -> None:
    lines = describe().splitlines()
    assert len(lines) == len(EDGES)
    for line, edge in zip(lines, EDGES, strict=True):
        assert edge.source in line and edge.target in line and edge.kind in line and edge.why in line
