"""The reply-topic gate of one worker: the rule of :mod:`agents.reply_to` plus a cached list of existing topics.

Producing to a topic the broker does not have makes a broker with auto-create (the embedded one among them) create
it, so a ``reply_to`` must name a topic that already exists. The topic list comes from a metadata request for all
topics, which creates nothing; it is cached and refreshed on a miss at most every ``topics.reply_topic_refresh_s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection

from agents.reply_to import reply_to_refusal, reply_topic_allowed
from gateway.errors import BrokerError
from gateway.settings import Settings
from schemas.result import ErrorInfo

log = logging.getLogger(__name__)

TopicLister = Callable[[], Awaitable[Collection[str]]]


class ReplyGate:
    """Decides whether a request's ``reply_to`` may be answered there (see :func:`agents.reply_to.reply_to_refusal`)."""

    def __init__(self, settings: Settings, list_topics: TopicLister, *, clock: Callable[[], float] = time.monotonic):
        self._settings = settings
        self._list_topics = list_topics
        self._clock = clock
        self._known: frozenset[str] = frozenset()
        self._refreshed_at: float | None = None

    async def refusal(self, name: str | None) -> ErrorInfo | None:
        """Why ``reply_to=name`` is refused, or ``None``; without a refresh this never yields to the event loop."""
        refusal = reply_to_refusal(name, self._settings, self._known)
        if refusal is None or name is None or not reply_topic_allowed(name, self._settings):
            return refusal
        if self._may_refresh():
            await self._refresh()
            refusal = reply_to_refusal(name, self._settings, self._known)
        return refusal

    def _may_refresh(self) -> bool:
        now = self._clock()
        if self._refreshed_at is not None and now - self._refreshed_at < self._settings.topics.reply_topic_refresh_s:
            return False
        self._refreshed_at = now  # before the await: concurrent misses share one refresh
        return True

    async def _refresh(self) -> None:
        try:
            self._known = frozenset(await self._list_topics())
        except BrokerError as exc:
            # Refusing is safe; answering on a topic we could not confirm might create it.
            log.warning("reply topics: %s; unknown reply_to topics are refused meanwhile", exc)
