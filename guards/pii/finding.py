"""One entity found in a text (kept apart from the recognizers so using findings does not import Presidio)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One entity found in a text: its type and where it is."""

    entity: str
    start: int
    end: int
