"""The wire contract of streamgate: pydantic v2 models serialised as JSON with a ``"v": 1`` field.

Public topics and their models:

* ``llm.requests`` -> :class:`LLMRequest` (any key; the gateway re-keys internally)
* ``reply_to`` (default ``llm.results``) -> :class:`LLMResult`, keyed by request ``id``; for a streamed request
  (``stream: true``) its :class:`StreamChunk` events first, same topic and key (``type`` tells them apart)
* ``llm.usage`` -> :class:`UsageEvent`, keyed by tenant, never carrying prompt or output text
* ``llm.dlq`` -> :class:`DeadLetter`
"""

from schemas.chunk import StreamChunk
from schemas.codes import ErrorCode
from schemas.dead_letter import DeadLetter
from schemas.request import CachePolicy, ChatMessage, LLMRequest
from schemas.result import Attempt, ErrorInfo, LLMResult, ResultStatus, TokenUsage
from schemas.usage import UsageEvent

__all__ = [
    "Attempt",
    "CachePolicy",
    "ChatMessage",
    "DeadLetter",
    "ErrorCode",
    "ErrorInfo",
    "LLMRequest",
    "LLMResult",
    "ResultStatus",
    "StreamChunk",
    "TokenUsage",
    "UsageEvent",
]
