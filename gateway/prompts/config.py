"""The ``[prompts.<name>]`` settings: A/B splits between a prompt's versions."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.errors import ConfigError


class PromptSplit(BaseModel):
    """``split = {"2" = 0.9, "3" = 0.1}``: the share of requests (by request id) that get each version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    split: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sums_to_one(self) -> PromptSplit:
        if self.split:
            if any(share < 0 for share in self.split.values()):
                raise ConfigError("prompt split shares must not be negative")
            if not math.isclose(sum(self.split.values()), 1.0, abs_tol=1e-6):
                raise ConfigError(f"prompt split shares must add up to 1, got {sum(self.split.values())}")
        return self
