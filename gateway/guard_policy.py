"""Per-tenant guard policy: what the content and output guards do for one tenant.

Defaults live in ``[guards]``; a tenant overrides any of them in ``[guards.tenants.<name>]``, e.g.::

    [guards.tenants.acme]
    pii_input = "block"
    deny_patterns = ['(?i)\\bproject falcon\\b']
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PiiInput = Literal["redact", "block", "allow"]
PiiOutput = Literal["redact", "block", "allow"]
InjectionMode = Literal["block", "allow"]


class GuardPolicy(BaseModel):
    """The guard policy in force for one tenant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pii_input: PiiInput = Field(default="redact", description="PII in prompts: typed placeholders, refuse, or pass.")
    pii_restore: bool = Field(
        default=False, description="Put the client's values back where the model repeated a placeholder."
    )
    pii_output: PiiOutput = Field(
        default="redact",
        description="PII in answers, before caching and delivery: typed placeholders, refuse the answer, or pass.",
    )
    injection: InjectionMode = Field(default="block", description="Prompt-injection and jailbreak screening.")
    injection_threshold: float | None = Field(
        default=None, gt=0, lt=1, description="Classifier threshold; default: the one calibrated at training."
    )
    deny_patterns: tuple[str, ...] = Field(default=(), description="Regular expressions a prompt must not match.")
    deny_topics: tuple[str, ...] = Field(
        default=(), description="Words or phrases (case-insensitive) a prompt must not contain."
    )

    @field_validator("deny_patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return _compilable(patterns)


class TenantGuardPolicy(BaseModel):
    """A tenant's overrides of the default :class:`GuardPolicy` (unset fields inherit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pii_input: PiiInput | None = None
    pii_restore: bool | None = None
    pii_output: PiiOutput | None = None
    injection: InjectionMode | None = None
    injection_threshold: float | None = Field(default=None, gt=0, lt=1)
    deny_patterns: tuple[str, ...] | None = None
    deny_topics: tuple[str, ...] | None = None

    @field_validator("deny_patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if patterns is None else _compilable(patterns)

    def over(self, defaults: GuardPolicy) -> GuardPolicy:
        """``defaults`` with this tenant's overrides applied."""
        return defaults.model_copy(update=self.model_dump(exclude_none=True))


def _compilable(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"deny pattern {pattern!r} is not a regular expression: {exc}") from None
    return patterns
