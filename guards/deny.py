"""Per-tenant deny rules: regular expressions and topics (words or phrases) a tenant forbids in prompts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from guards.base import PASS, Block, GuardInput, GuardStage, Verdict
from guards.rails import RailedCheck
from guards.text import all_texts, last_text
from schemas.codes import ErrorCode


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...], topics: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    rules = [(f"pattern.{i}", re.compile(p)) for i, p in enumerate(patterns)]
    rules += [(f"topic.{t}", re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", re.IGNORECASE)) for t in topics]
    return tuple(rules)


def deny_verdict(subject: GuardInput) -> Verdict:
    """Block the first deny rule of the tenant's policy that any text of the request matches."""
    policy = subject.policy
    if not policy.deny_patterns and not policy.deny_topics:
        return PASS
    texts = all_texts(subject.request)
    for rule, pattern in _compiled(policy.deny_patterns, policy.deny_topics):
        if any(pattern.search(text) for text in texts):
            return Verdict.blocking(Block(ErrorCode.GUARDRAIL_BLOCKED, "the prompt matches a deny rule", rule))
    return PASS


@dataclass
class DenyGuard:
    """The tenant's deny rules as a guardrails validator."""

    name: str = "deny"
    stage: GuardStage = "content"
    _rails: RailedCheck = field(default_factory=lambda: RailedCheck(deny_verdict))

    def check(self, subject: GuardInput) -> Verdict:
        """Block on a deny rule, else pass."""
        if not subject.policy.deny_patterns and not subject.policy.deny_topics:
            return PASS
        return self._rails.run(subject, last_text(subject.request))
