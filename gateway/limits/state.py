"""The table value of one limit key (a tenant, or ``tenant|user``): a few numbers, never a per-request map.

Values are immutable; every change builds a new :class:`UsageState` which the caller assigns back to the table
(only assignment persists in Faust). Only the *current* rate window and the *current* UTC day and month are
kept; they roll forward lazily whenever a decision reads or writes the value (see
:mod:`gateway.limits.decide`).

USD amounts are floats kept on a 1e-10 grid (every sum is rounded to 10 decimals, as
:func:`gateway.pricing.cost_usd` does), so reserving and releasing the same amount returns exactly to where it
started and comparisons against a limit are exact.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import orjson

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class UsageState:
    """Usage of one key. A fresh key is ``UsageState()``.

    * rate window (epoch-aligned, tumbling): ``window_s``, ``window_start``; ``requests`` admitted and
      ``tokens`` settled in it. ``window_s`` is stored so that :func:`~gateway.limits.decide.settle` can
      roll the window without the limits.
    * reservations of admitted, not yet settled requests: ``inflight`` (count), ``reserved_tokens``,
      ``reserved_usd``. They are not tied to a window or period: they count against whichever one is current.
    * spend of the current UTC day (``day`` = ``YYYY-MM-DD``, ``day_usd``) and month (``month`` = ``YYYY-MM``,
      ``month_usd``); an empty string means "no spend recorded yet".
    * budget alerts (:mod:`gateway.limits.alerts`): ``alerted``, the highest share already alerted per period
      (``"2025-06-16:0.8,2025-06:0.95"``), and ``alert_pending``, set in the same write until the alerts are
      known to be on the broker, so a crash in between re-sends them instead of losing them.
    """

    v: int = STATE_VERSION
    window_s: int = 60
    window_start: int = 0
    requests: int = 0
    tokens: int = 0
    inflight: int = 0
    reserved_tokens: int = 0
    reserved_usd: float = 0.0
    day: str = ""
    day_usd: float = 0.0
    month: str = ""
    month_usd: float = 0.0
    alerted: str = ""
    alert_pending: bool = False

    def to_json(self) -> bytes:
        """Compact JSON (an object keyed by field name, ~200 bytes)."""
        return orjson.dumps(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The fields as a flat dict (what :meth:`from_dict` reads); cheaper than ``dataclasses.asdict``, which
        deep-copies every value and showed up in the worker's profile."""
        doc = {name: getattr(self, name) for name in _FIELD_ORDER}
        if not self.alerted and not self.alert_pending:  # the usual case: the value stays as small as before
            del doc["alerted"], doc["alert_pending"]
        return doc

    @classmethod
    def from_json(cls, data: bytes | str) -> UsageState:
        """Parse :meth:`to_json` output; raises ``ValueError`` on an unknown schema version or field."""
        raw = orjson.loads(data)
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Any) -> UsageState:
        """Build from a parsed JSON object (e.g. when the table codec already decoded it)."""
        if not isinstance(raw, dict):
            raise ValueError(f"usage state must be a JSON object, got {type(raw).__name__}")
        version = raw.get("v", STATE_VERSION)
        if version != STATE_VERSION:
            raise ValueError(f"unsupported usage state version {version!r} (expected {STATE_VERSION})")
        unknown = raw.keys() - _FIELDS
        if unknown:
            raise ValueError(f"unknown usage state fields {sorted(unknown)}")
        return cls(**raw)

    def replace(self, **changes: Any) -> UsageState:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


_FIELD_ORDER = tuple(field.name for field in dataclasses.fields(UsageState))
_FIELDS = frozenset(_FIELD_ORDER)


def encode(state: UsageState) -> bytes:
    """Table codec helper: ``state.to_json()``."""
    return state.to_json()


def decode(data: bytes | str | None) -> UsageState:
    """Table codec helper: a missing value (``None``/empty) is a fresh state."""
    if not data:
        return UsageState()
    return UsageState.from_json(data)
