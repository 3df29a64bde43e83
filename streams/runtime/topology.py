"""The pipeline, declared in one place: stages, and which edges are Kafka topics and why.

A topic hop costs ~6 ms with bare aiokafka and ~9 ms through the pipeline (p50 at 50 req/s, ``bench/FINDINGS.md``),
and a Faust hop tops out near 2-3k events/s on this class of machine, so an edge is a topic only where the key, the
state owner or the concurrency changes; elsewhere it is an in-process channel, and at-least-once delivery is kept
by acking the source event only once what settles the job is on the broker.

intake -> screen is both: a request the client keyed by its tenant lands on the partition that owns the tenant's
table rows and is screened where it is (no hop, :mod:`streams.runtime.direct`); any other request is re-keyed through
``streamgate.admit``. validate -> account is both too: a request is settled in the worker that screened it while
that worker still owns the tenant's partition (the usual case: no hop), and through ``streamgate.settle`` to the
partition's new owner when a rebalance moved it during the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EdgeKind = Literal["kafka", "inproc"]


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge of the pipeline."""

    source: str
    target: str
    kind: EdgeKind
    topic: str
    key: str
    why: str


STAGES: tuple[str, ...] = ("intake", "screen", "cache", "complete", "validate", "account")

EDGES: tuple[Edge, ...] = (
    Edge("client", "intake", "kafka", "llm.requests", "any (client's choice)", "the public contract"),
    Edge(
        "intake",
        "screen",
        "kafka",
        "streamgate.admit",
        "tenant",
        "re-key: limit tables are per tenant/user and must be owned by exactly one partition",
    ),
    Edge(
        "intake",
        "screen",
        "inproc",
        "-",
        "-",
        "keyed by tenant already (default partitioner, co-partitioned topic): no key or owner change",
    ),
    Edge("screen", "cache", "inproc", "-", "-", "same process; concurrency fans out from 1 to many"),
    Edge("cache", "complete", "inproc", "-", "-", "no key or owner change; concurrency rises to max_in_flight"),
    Edge("complete", "validate", "inproc", "-", "-", "no key, owner or concurrency change"),
    Edge("validate", "account", "inproc", "-", "-", "settled in place: this worker still owns the tenant's partition"),
    Edge(
        "validate",
        "account",
        "kafka",
        "streamgate.settle",
        "tenant",
        "only if a rebalance moved the tenant's partition during the call: to its new owner (co-partitioned)",
    ),
    Edge(
        "complete",
        "client",
        "kafka",
        "reply_to (llm.results)",
        "request id",
        "chunks of a streamed answer (stream: true), before its result: same topic and key, so one partition and "
        "one producer keep their order",
    ),
    Edge("account", "client", "kafka", "reply_to (llm.results)", "request id", "the public contract"),
    Edge("account", "analysts", "kafka", "llm.usage", "tenant", "the public contract"),
)


def describe() -> str:
    """A printable table of the topology."""
    rows = [f"{e.source:>9} -> {e.target:<9} {e.kind:<7} {e.topic:<24} key={e.key:<24} {e.why}" for e in EDGES]
    return "\n".join(rows)


def inproc_chain(start: str = "screen", until: str = "account") -> tuple[str, ...]:
    """The stages after ``start`` joined to it by in-process edges, up to (without) ``until``: the channel agents
    one worker chains (account is not one: the last of them settles in place)."""
    chain: list[str] = []
    current = start
    while True:
        step = next((e for e in EDGES if e.source == current and e.kind == "inproc"), None)
        if step is None or step.target == until:
            return tuple(chain)
        chain.append(step.target)
        current = step.target
