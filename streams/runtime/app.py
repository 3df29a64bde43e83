"""The Faust app: one factory that turns :class:`Settings` into a configured, fixed-up ``faust.App``."""

from __future__ import annotations

import logging

import faust
from faust.utils.terminal.spinners import SpinnerHandler

from gateway.kafka_security import KafkaTarget, connection
from gateway.settings import Settings
from streams import faust_patches


def create_app(settings: Settings, target: KafkaTarget) -> faust.App:
    """A Faust app tuned for low per-hop latency and thousands of requests in flight.

    The numbers come from measurements on the embedded broker (see README, "Topology and costs"): a 10 ms fetch
    wait instead of Faust's hard-coded 1.5 s, 1 MB producer batches so thousands of concurrent senders do not
    thrash a small batch, and a 6 s session timeout so joins and rebalances take ~3 s instead of ~30 s.
    The Faust corrections (:mod:`streams.faust_patches`) are checked and installed here, before the app starts.
    ``kafka``'s security becomes Faust's ``broker_credentials``: the worker's producer and consumers use it.
    """
    kafka = connection(target)
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    servers = ";".join(f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(","))
    app = faust.App(
        settings.app_id,
        broker=servers,
        broker_credentials=kafka.faust_credentials(),
        store="memory://",
        datadir=str(settings.data_dir / "faust"),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        broker_commit_interval=settings.commit_interval_s,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(0.5, settings.session_timeout_s / 6),
        broker_request_timeout=max(40.0, settings.session_timeout_s * 2),
        broker_rebalance_timeout=max(20.0, settings.session_timeout_s * 2),
        consumer_auto_offset_reset="earliest",
        producer_linger_ms=settings.producer_linger_ms,
        producer_max_batch_size=settings.producer_max_batch_size,
        producer_max_request_size=max(settings.producer_max_batch_size, settings.producer_max_request_size),
        stream_buffer_maxsize=4096,
        stream_wait_empty=False,
        web_enabled=settings.web_port > 0,
        web_port=settings.web_port or 6066,
        web_bind=settings.web_host,
        table_standby_replicas=0,
        worker_redirect_stdouts=False,
        logging_config=None,
    )
    faust_patches.install(app, settings, kafka)
    app.task(_drop_unhandled_debug_records)
    return app


async def _drop_unhandled_debug_records() -> None:
    """Raise the root logger to the lowest level one of its real handlers accepts (runs once at start).

    With ``--loglevel warn`` (``streamgate dev``, the bench) Faust's worker sets the root logger to DEBUG so that
    every record advances its terminal spinner, which stops once the worker is up. From then on every
    ``log.debug`` in aiokafka, Faust and httpcore builds a record no handler keeps: ~7 % of a loaded worker's CPU.
    """
    root = logging.getLogger()
    levels = [handler.level for handler in root.handlers if not isinstance(handler, SpinnerHandler)]
    if levels and root.level < min(levels):
        root.setLevel(min(levels))
