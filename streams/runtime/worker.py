"""Run one gateway worker: create the topics it needs, build the app and its agents, and serve until stopped."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import faust

from gateway.event_loop import install_event_loop
from gateway.kafka_security import KafkaTarget, connection
from gateway.logs import logging_config
from gateway.price_source import SOURCE
from gateway.pricing import unpriced_models
from gateway.settings import Settings
from streams.runtime import metrics
from streams.runtime.admin import ensure_topics
from streams.runtime.app import create_app
from streams.runtime.health import add_health_pages
from streams.runtime.pipeline import Pipeline, build_pipeline
from streams.runtime.services import build_services
from streams.runtime.shutdown import BoundedShutdownWorker

log = logging.getLogger(__name__)

TABLES = ("requests", "usage")


def topic_specs(settings: Settings) -> list[tuple[str, int]]:
    """Every topic a worker uses, with its partition count (internal ones and table changelogs co-partitioned)."""
    names = settings.topics
    n = settings.partitions
    specs = [
        (names.requests, n),
        (names.admit, n),
        (names.settle, n),
        (names.results, n),
        (names.usage, n),
        (names.dlq, 1),
        (names.alerts, 1),
    ]
    specs += [(f"{settings.app_id}-{table}-changelog", n) for table in TABLES]
    return specs


def build_worker_app(settings: Settings, target: KafkaTarget) -> tuple[faust.App, Pipeline]:
    """The configured app with every agent, table and web page declared."""
    kafka = connection(target)
    app = create_app(settings, kafka)
    for name in unpriced_models(settings.models):
        log.warning("model %r has no known price: its usage events will carry cost_usd null", name)
    metrics.PRICE_SOURCE.labels(source=SOURCE).set(1)
    services = build_services(settings)
    pipeline = build_pipeline(app, settings, services, kafka)
    _add_pages(app, pipeline)
    add_health_pages(app, services.redis)

    async def flush_cache_counts() -> None:  # per-tenant cache counters, for `streamgate cache stats`
        await services.cache.exact.flush_counts()

    app.timer(1.0)(flush_cache_counts)
    return app, pipeline


def _add_pages(app: faust.App, pipeline: Pipeline) -> None:
    @app.page("/metrics")
    async def metrics_page(web_view: Any, request: Any) -> Any:
        for snap in pipeline.services.completer.breakers.snapshot_all():
            level = {"closed": 0.0, "half_open": 0.5, "open": 1.0}[str(snap.state)]
            metrics.BREAKER_STATE.labels(provider=snap.provider, model=snap.model).set(level)
        metrics.IN_FLIGHT.set(len(pipeline.in_flight))
        metrics.set_consumer_lag(app.monitor.tp_end_offsets, app.monitor.tp_committed_offsets)
        return web_view.bytes(metrics.render(), content_type="text/plain; version=0.0.4")

    @app.page("/status")
    async def status_page(web_view: Any, request: Any) -> Any:
        completer = pipeline.services.completer
        return web_view.json(
            {
                "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
                "in_flight": len(pipeline.in_flight),
                "assigned_partitions": sorted(
                    tp.partition for tp in app.consumer.assignment() if tp.topic == pipeline.settings.topics.admit
                ),
                "breakers": [dataclasses.asdict(snap) for snap in completer.breakers.snapshot_all()],
                "provider_rates": [dataclasses.asdict(snap) for snap in completer.rates.snapshot_all()],
            }
        )


def run_worker(settings: Settings, *, loglevel: str = "info") -> None:
    """Run a worker in the foreground until SIGINT/SIGTERM."""
    kafka = settings.kafka_connection()
    install_event_loop(settings.event_loop)
    asyncio.run(ensure_topics(kafka, topic_specs(settings), replication_factor=settings.replication_factor))
    log.info("kafka: %s %s", kafka.bootstrap_servers, kafka.security.describe())
    app, _ = build_worker_app(settings, kafka)
    worker = BoundedShutdownWorker(
        app,
        loglevel=loglevel,
        quiet=True,
        redirect_stdouts=False,
        logging_config=logging_config(settings.logging),
        shutdown_timeout_s=settings.shutdown_timeout_s,
    )
    worker.execute_from_commandline()
