"""The version gate: every correction runs only on the faust-streaming and aiokafka it was written for.

Two checks, both before anything is replaced (:func:`check`, called by :func:`streams.faust_patches.install`):

1. the installed versions are the ones in :data:`SUPPORTED_VERSIONS`;
2. every method a correction replaces, overrides or depends on (:data:`SHAPES`) has the sha256 of its source
   recorded here, taken from upstream's method (our installed replacements are unwrapped first).

A mismatch raises :class:`gateway.errors.FaustPatchError` naming the method and what to re-check. After an
upgrade, re-check each named correction against the new code, then record the new hashes printed by
``python -m streams.faust_patches.gate``.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from dataclasses import dataclass
from typing import Any

from gateway.errors import FaustPatchError
from streams.faust_patches import patching

SUPPORTED_VERSIONS: dict[str, tuple[str, ...]] = {"faust": ("0.15.3",), "aiokafka": ("0.14.0",)}
"""Module name -> the ``__version__`` values every correction was checked against."""

_DISTRIBUTIONS = {"faust": "faust-streaming", "aiokafka": "aiokafka"}


@dataclass(frozen=True)
class Shape:
    """One upstream method a correction relies on, and the sha256 of its source at the supported version."""

    target: str  # "module:Qual.name"
    sha256: str
    module: str  # the correction (a module of this package) that relies on it
    kind: str  # "replaced" (by a correction), "overridden" (in a subclass) or "relied on" (its behaviour)
    recheck: str  # what to re-check in the new version before recording its new hash

    @property
    def replaced_method(self) -> tuple[type, str] | None:
        """``(class, method name)`` when a correction replaces this method on its class, else None."""
        if self.kind != "replaced":
            return None
        module_name, _, qualname = self.target.partition(":")
        owner_name, _, name = qualname.rpartition(".")
        owner: type = getattr(importlib.import_module(module_name), owner_name)
        return owner, name


SHAPES: tuple[Shape, ...] = (
    Shape(
        "faust.transport.consumer:Consumer._new_offset",
        "1d2c7ea89a7ad4f1a216c1d51936e569162cd66bd56f889e13fd29c910b58eb0",
        "commit_offsets",
        "replaced",
        "is issue #606 (commit past an unacked event) fixed upstream, and which state does it read?",
    ),
    Shape(
        "faust.transport.consumer:Consumer.ack",
        "5fcf41cf45153475de3790dc56fec1b83335956dc8b3bf7ff6bbb2b57627f03f",
        "commit_offsets",
        "relied on",
        "which acked messages ack() leaves in _unacked_messages, _acked and _acked_index",
    ),
    Shape(
        "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread._create_worker_consumer",
        "c2701bfc3e6f6cad95c2be36d6a255a86e2c57d18d36cc1082b5fb5c482d99d7",
        "fetch_wait",
        "replaced",
        "is fetch_max_wait_ms still hard-coded to 1500, and does it still return the consumer?",
    ),
    Shape(
        "aiokafka.consumer.consumer:AIOKafkaConsumer.start",
        "2f1ba70443327538800d348e61042cdedd5a5e6306f40ebe1a06dddba7494c45",
        "fetch_wait",
        "relied on",
        "start() must still build its Fetcher from _fetch_max_wait_ms and _fetch_min_bytes, kept as _fetcher",
    ),
    Shape(
        "aiokafka.consumer.fetcher:Fetcher._fetch_requests_routine",
        "2a8ec5932644c9b04ff222ee7f27c9b0d6a0a7e89ce5a158ed340ceedc2ec7a9",
        "fetch_wait",
        "relied on",
        "does it still start each fetch as self._proc_fetch_request(...), looked up on the instance?",
    ),
    Shape(
        "aiokafka.consumer.fetcher:Fetcher._proc_fetch_request",
        "59bf948fff47eed580671971252454daa614df479733f3bedfefe95bc4d8ad30",
        "fetch_wait",
        "relied on",
        "does it still return True when it buffered records (or an error) in self._records, False when empty?",
    ),
    Shape(
        "aiokafka.consumer.fetcher:Fetcher._get_actions_per_node",
        "1dab2cf937d165d0eeacc8da8ed2b0ebd80b321bb6583757e01cdc1013d31635",
        "fetch_wait",
        "relied on",
        "does every FetchRequest still take its wait from self._fetch_max_wait_ms, read per request?",
    ),
    Shape(
        "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread._highwaters",
        "a7f4f97d9f32aca2777713e22671d70eae4b3ae51541bb09a90448ce83acefce",
        "end_offsets",
        "replaced",
        "does table recovery still end at consumer.end_offsets()?",
    ),
    Shape(
        "aiokafka.client:AIOKafkaClient.__init__",
        "edf3d022956032ba271940a7e00e9bf93d1a71b2cfe1a5d4f773415592e8fad6",
        "end_offsets",
        "relied on",
        "the client must still keep its bootstrap servers in _bootstrap_servers",
    ),
    Shape(
        "faust.tables.base:Collection.send_changelog",
        "3dd3884e1b5fc0e1612bc688b83d9318a1805ddc49700d3b6b37bade73c3905d",
        "changelog_barrier",
        "replaced",
        "does it still return the send's future, unawaited?",
    ),
    Shape(
        "faust.transport.drivers.aiokafka:Producer.on_start",
        "219c9a7a785d77b29016a7f32a12b29645eb9a84f4dd320eee420415eec54120",
        "direct_send",
        "relied on",
        "is the started aiokafka producer still _producer, built with Faust's partitioner, linger and batch size?",
    ),
    Shape(
        "faust.transport.drivers.aiokafka:Producer.send",
        "0b5bd08f52e5e2a90ff6307dbfc3c97afb01cb2687835e8fe8486c5bcad02dc1",
        "direct_send",
        "relied on",
        "does Faust still hand aiokafka the record unchanged (key, value, partition, headers as a list)?",
    ),
    Shape(
        "faust.channels:Channel.as_future_message",
        "e41289c4fced443d7fd6460b7d05fa8d075f1c35a699f2514e03a8e8ecd9f36a",
        "direct_send",
        "relied on",
        "is a changelog record still prepare_headers, then prepare_key, then prepare_value, nothing else?",
    ),
    Shape(
        "faust.tables.table:Table.on_key_set",
        "a370e35ca55c2c7e36e93f0d4b485927c32d49199043cab2314572846184dd94",
        "direct_send",
        "relied on",
        "does a table write still read only fut.message.partition from send_changelog's result?",
    ),
    Shape(
        "faust.tables.base:Collection._on_changelog_sent",
        "60122c86a120d82cffa95da4c22323e12d67fa82f3112f08ac7f8edde7c47826",
        "direct_send",
        "relied on",
        "outside a transaction, does it still only set the store's persisted offset?",
    ),
    Shape(
        "faust.transport.consumer:Consumer._commit_offsets",
        "1a6979904118844111259d182ca1c6e92ccc16364ccbe55c58e59d6e254a7adb",
        "changelog_barrier",
        "replaced",
        "is it still the one place offsets are committed, returning a bool?",
    ),
    Shape(
        "faust.transport.consumer:Consumer.perform_seek",
        "0e8c130ff4b0afd82c0be9c5fd831316e10febc62c94032833911096e156d7c6",
        "partition_heads",
        "replaced",
        "does it still seek every assigned partition and leave a never-committed one's _committed_offset None?",
    ),
    Shape(
        "faust.transport.consumer:Consumer._drain_messages",
        "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417",
        "partition_heads",
        "relied on",
        "can a message fetched before a seek still move the read offset past the re-fetched ones (then dropped)?",
    ),
    Shape(
        "faust.transport.consumer:Consumer.seek",
        "b86a9fe05f956b30cf299c787b6787c6e0349cbf1ae556f2456a1e97b15dbb22",
        "partition_heads",
        "relied on",
        "does seeking a partition still re-deliver from that offset (read offset reset with it)?",
    ),
    Shape(
        "faust.streams:current_event",
        "3b821f1a78d86a58234dfe781fbf539775b00e66fdac9489c1c398a2d81d7e9d",
        "event_context",
        "relied on",
        "does _current_event still hold a weak reference to the event?",
    ),
    Shape(
        "faust.tables.base:Collection.partition_for_key",
        "3b2291811b8dd791cdd0e690b2b09d966a4e961e2a2861182241195696393bed",
        "event_context",
        "relied on",
        "is a table write's changelog partition still the partition of current_event()?",
    ),
)


def check(shapes: tuple[Shape, ...] = SHAPES) -> None:
    """Raise :class:`FaustPatchError` unless the versions are supported and every shape's source is unchanged."""
    for module_name, supported in SUPPORTED_VERSIONS.items():
        found = getattr(importlib.import_module(module_name), "__version__", None)
        if found not in supported:
            raise FaustPatchError(
                f"streams.faust_patches was written against {_DISTRIBUTIONS[module_name]} {', '.join(supported)}, "
                f"found {found}: re-check every correction in streams/faust_patches (issue #606, the hard-coded "
                "fetch wait, recovery end offsets, the changelog barrier) before upgrading"
            )
    for shape in shapes:
        found = source_sha256(shape.target)
        if found != shape.sha256:
            shown = found[:12] if len(found) == len(shape.sha256) else found
            raise FaustPatchError(
                f"{shape.target} ({shape.kind} by streams.faust_patches.{shape.module}) is not the method it was "
                f"written for (source sha256 {shown}, expected {shape.sha256[:12]}); re-check: {shape.recheck}"
            )


def resolve(target: str) -> Any:
    """Upstream's function behind ``"module:Qual.name"`` (a property's getter; our replacements unwrapped)."""
    module_name, _, qualname = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    found = patching.upstream(owner, name) if isinstance(owner, type) else getattr(owner, name)
    return found.fget if isinstance(found, property) else found


def source_sha256(target: str) -> str:
    """The sha256 of the source of upstream's ``target`` ("unavailable" when it has no source)."""
    try:
        source = inspect.getsource(resolve(target))
    except (OSError, TypeError, AttributeError, KeyError, ImportError) as exc:
        return f"unavailable ({type(exc).__name__})"
    return hashlib.sha256(source.encode()).hexdigest()


if __name__ == "__main__":
    for shape in SHAPES:
        print(f"{source_sha256(shape.target)}  {shape.target}")
