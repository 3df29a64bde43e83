"""The dead-letter event on ``llm.dlq``: an input the gateway could not process, kept byte for byte."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict


class DeadLetter(BaseModel):
    """A bad event with where it came from and why it was set aside."""

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    topic: str
    partition: int
    offset: int
    key_b64: str | None = None
    raw_b64: str
    reason: str
    detail: str
    ts_ms: int

    def raw(self) -> bytes:
        """The original value bytes."""
        return base64.b64decode(self.raw_b64)
