"""Topics: names come from settings; every value on the wire is JSON bytes we (de)serialise ourselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import faust

from gateway.settings import Settings


def _topic(app: faust.App, name: str, *, partitions: int | None = None) -> Any:
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


@dataclass
class Topics:
    """The Faust topic objects of one app; reply topics are created on first use and kept."""

    app: faust.App
    requests: Any
    admit: Any
    settle: Any
    results: Any
    usage: Any
    dlq: Any
    alerts: Any
    _replies: dict[str, Any] = field(default_factory=dict)

    def reply(self, name: str) -> Any:
        """The topic a result goes to (the request's ``reply_to``)."""
        topic = self._replies.get(name)
        if topic is None:
            topic = self.results if name == self.results.get_topic_name() else _topic(self.app, name)
            self._replies[name] = topic
        return topic


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare every topic the pipeline uses. Internal topics share ``settings.partitions`` (co-partitioning)."""
    names = settings.topics
    return Topics(
        app=app,
        requests=_topic(app, names.requests),
        admit=_topic(app, names.admit, partitions=settings.partitions),
        settle=_topic(app, names.settle, partitions=settings.partitions),
        results=_topic(app, names.results),
        usage=_topic(app, names.usage),
        dlq=_topic(app, names.dlq),
        alerts=_topic(app, names.alerts),
    )
