"""The dead-letter event on ``llm.dlq``: an input the gateway could not process, kept byte for byte up to a bound."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    """A bad event with where it came from and why it was set aside.

    ``raw_b64`` holds at most the gateway's ``max_dead_letter_bytes`` of the value (so the letter always fits in a
    producer request); ``raw_size`` and ``raw_sha256`` describe the whole original value and ``truncated`` says
    whether ``raw_b64`` is only its first bytes.
    """

    model_config = ConfigDict(frozen=True)

    v: Literal[1] = 1
    topic: str
    partition: int
    offset: int
    key_b64: str | None = None
    raw_b64: str
    raw_size: int = Field(default=0, ge=0, description="Bytes of the original value.")
    raw_sha256: str = Field(default="", description="Hex SHA-256 of the whole original value.")
    truncated: bool = Field(default=False, description="raw_b64 holds only the first bytes of the value.")
    reason: str
    detail: str
    ts_ms: int

    def raw(self) -> bytes:
        """The original value bytes (only their first ``max_dead_letter_bytes`` when ``truncated``)."""
        return base64.b64decode(self.raw_b64)
