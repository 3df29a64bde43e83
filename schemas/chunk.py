"""The chunk event of a streamed answer, published on the request's ``reply_to`` before its result.

A request with ``"stream": true`` gets, on its ``reply_to`` topic and under the same key as its result (the request
``id``, so one partition holds them in order), zero or more chunk events and then exactly one result::

    {"v": 1, "id": "r-1", "type": "chunk", "seq": 0, "delta": "Hello"}
    {"v": 1, "id": "r-1", "type": "chunk", "seq": 1, "delta": ", world"}
    {"v": 1, "id": "r-1", "type": "result", "status": "ok", "output": "Hello, world", ...}

A consumer tells them apart by ``type``: ``"chunk"`` is a :class:`StreamChunk`, anything else (``"result"``) is the
final :class:`schemas.result.LLMResult`. ``seq`` starts at 0 and increases by one per chunk of a request. The
result's ``output`` equals the concatenation of the deltas from the last chunk with ``reset: true`` (or from
``seq`` 0 when there is none) on. A ``reset`` chunk is sent only when a retry or fallback after partial output
answered with a different text: the deltas before it are void and the answer starts again with its delta.
Delivery is at-least-once: after a worker crash a request can be served again and its chunks start over at
``seq`` 0 (treat a repeated ``seq`` 0 like a reset); the result always carries the whole answer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StreamChunk(BaseModel):
    """One piece of a streamed answer's text (already through the output guards)."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    id: str = Field(description="The request id (also the record key).")
    type: Literal["chunk"] = "chunk"
    seq: int = Field(ge=0, description="0 for a request's first chunk, then one more per chunk.")
    delta: str = Field(description="The next piece of the answer's text.")
    reset: bool = Field(
        default=False,
        description="true: the deltas before this one are void (a retry or fallback after partial output answered "
        "differently); the answer starts again with this delta.",
    )
