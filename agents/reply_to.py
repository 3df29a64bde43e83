"""Which topic a result may go to: a request's ``reply_to`` is honoured only for an existing, allowed reply topic.

A client must not be able to make the gateway write into its own topics (a fake usage record on ``llm.usage``, a
settlement consumer fed a result, a table changelog corrupted) nor create a topic by naming it. Allowed are the
results topic, the names in ``topics.reply_topics`` and existing topics starting with ``topics.reply_topic_prefix``;
internal topics never are, whatever the configuration says (settings refuse such a configuration too).
"""

from __future__ import annotations

from collections.abc import Collection

from gateway.settings import Settings
from schemas.codes import ErrorCode
from schemas.result import ErrorInfo


def reply_topic_allowed(name: str, settings: Settings) -> bool:
    """Whether ``name`` may be a reply topic by its name alone (existence is checked separately)."""
    return settings.reply_topic_allowed(name)


def reply_to_refusal(name: str | None, settings: Settings, existing: Collection[str]) -> ErrorInfo | None:
    """Why a request naming ``reply_to=name`` is refused (``invalid_request``), or ``None`` when it may be answered
    there; ``existing`` are the topics the cluster has. No ``reply_to`` means the results topic, always fine."""
    if name is None or name == settings.topics.results:
        return None
    if not reply_topic_allowed(name, settings):
        return ErrorInfo(
            code=ErrorCode.INVALID_REQUEST, message=f"reply_to {name!r} is not a reply topic; {_rule(settings)}"
        )
    if name not in existing:
        return ErrorInfo(
            code=ErrorCode.INVALID_REQUEST,
            message=f"reply_to topic {name!r} does not exist; the gateway answers only on existing reply topics "
            "and never creates one",
        )
    return None


def reply_topic_for(name: str | None, settings: Settings) -> str:
    """The topic a result for ``reply_to=name`` is written to: ``name`` when allowed, else the results topic."""
    return name if name is not None and reply_topic_allowed(name, settings) else settings.topics.results


def _rule(settings: Settings) -> str:
    topics = settings.topics
    allowed = sorted({topics.results, *topics.reply_topics})
    prefix = f" or an existing topic starting with {topics.reply_topic_prefix!r}" if topics.reply_topic_prefix else ""
    return f"allowed: {', '.join(repr(name) for name in allowed)}{prefix}"
