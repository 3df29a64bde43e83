"""Replacing findings with typed placeholders, and putting the client's values back.

Input placeholders are numbered per type and request (``<EMAIL_ADDRESS_1>``); the same value gets the same
placeholder in every message, so the model can refer to it consistently. Output placeholders carry no number
(``<EMAIL_ADDRESS>``): they are never restored, and cannot collide with an input placeholder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from guards.pii.finding import Finding


@dataclass
class Placeholders:
    """The placeholders of one request: value -> placeholder, numbered per entity type."""

    by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def placeholder(self, entity: str, value: str) -> str:
        """The placeholder of ``value`` (a new one the first time it is seen)."""
        key = (entity, value)
        if key not in self.by_value:
            self.counts[entity] += 1
            self.by_value[key] = f"<{entity}_{self.counts[entity]}>"
        return self.by_value[key]

    def restore_map(self) -> tuple[tuple[str, str], ...]:
        """``(placeholder, value)`` pairs."""
        return tuple((placeholder, value) for (_, value), placeholder in self.by_value.items())


def replace(text: str, findings: Sequence[Finding], placeholder_of: Placeholders | None) -> str:
    """``text`` with each finding replaced: numbered placeholders when ``placeholder_of`` is given, else typed ones."""
    parts: list[str] = []
    at = 0
    for finding in findings:
        value = text[finding.start : finding.end]
        parts.append(text[at : finding.start])
        parts.append(placeholder_of.placeholder(finding.entity, value) if placeholder_of else f"<{finding.entity}>")
        at = finding.end
    parts.append(text[at:])
    return "".join(parts)


def restore(text: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``text`` with every placeholder of ``pairs`` replaced by its value."""
    for placeholder, value in pairs:
        text = text.replace(placeholder, value)
    return text


def count_by_type(findings: Sequence[Finding]) -> dict[str, int]:
    """Findings counted per entity type."""
    return dict(Counter(f.entity for f in findings))
