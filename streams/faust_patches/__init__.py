"""Every correction to faust-streaming and aiokafka, and every use of their private internals, in one place.

Corrections (one module each), installed together by :func:`install`:

- :mod:`~streams.faust_patches.commit_offsets`: never commit past an unfinished event (upstream issue #606), nor
  before a partition's head (:mod:`~streams.faust_patches.partition_heads`, which also seeks back over events the
  consumer dropped after a rebalance's seek).
- :mod:`~streams.faust_patches.fetch_wait`: the worker consumer's fetch wait from settings, not a hard-coded 1.5 s,
  short while records flow and longer when idle.
- :mod:`~streams.faust_patches.end_offsets`: recover tables to the true end of their changelog.
- :mod:`~streams.faust_patches.changelog_barrier`: no offset commit or partition hand-over ahead of table writes.
- :mod:`~streams.faust_patches.direct_send`: records (results, usage events, changelog writes) go to the aiokafka
  producer under Faust's without Faust's per-message send machinery (:func:`kafka_producer`, Faust's ``_producer``).

Private internals behind public helpers: :func:`acting_for` (:mod:`~streams.faust_patches.event_context`, Faust's
``_current_event``) and :func:`kafka_producer` (:mod:`~streams.faust_patches.direct_send`, Faust's ``_producer``).
:mod:`~streams.faust_patches.gate` checks the versions and the shape of every method relied on before any change.
"""

from __future__ import annotations

import faust

from gateway.kafka_security import KafkaConnection
from gateway.settings import Settings
from streams.faust_patches import changelog_barrier, commit_offsets, direct_send, end_offsets, fetch_wait, gate
from streams.faust_patches.direct_send import kafka_producer
from streams.faust_patches.event_context import acting_for

__all__ = ["acting_for", "direct_send", "install", "kafka_producer"]


def install(app: faust.App, settings: Settings, kafka: KafkaConnection | None = None) -> None:
    """Check the gate, then install every correction for ``app`` (idempotent: safe for several apps).

    Raises :class:`gateway.errors.FaustPatchError`, with nothing replaced, on a faust-streaming or aiokafka version
    or method these corrections were not written for. ``settings.upstream_commit_logic`` keeps Faust's own commit
    logic (and no changelog barrier), which exists only so a test can show the event loss the fix prevents.
    ``kafka``: the worker's connection; its security is used by the corrections' own Kafka clients.
    """
    gate.check()
    commit_offsets.install(upstream_logic=settings.upstream_commit_logic)
    fetch_wait.install(
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        fetch_min_bytes=settings.fetch_min_bytes,
        fetch_idle_wait_ms=settings.fetch_idle_wait_ms,
    )
    end_offsets.install(kafka.security_kwargs() if kafka is not None else None)
    if settings.upstream_commit_logic:
        changelog_barrier.uninstall()
    else:
        changelog_barrier.install(commit_timeout_s=settings.session_timeout_s)
        changelog_barrier.hold_revocations(app, timeout_s=settings.session_timeout_s / 2)
