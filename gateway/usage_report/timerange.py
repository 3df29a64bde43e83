"""Time ranges of ``streamgate usage``: ``--since 1h`` or ``--from``/``--to`` as ISO 8601 or epoch milliseconds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.errors import ConfigError

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``[start_ms, end_ms)`` in epoch milliseconds; ``None`` is unbounded."""

    start_ms: int | None = None
    end_ms: int | None = None

    def contains(self, ts_ms: int) -> bool:
        """Whether ``ts_ms`` falls in the range."""
        return (self.start_ms is None or ts_ms >= self.start_ms) and (self.end_ms is None or ts_ms < self.end_ms)


def parse_duration_ms(text: str) -> int:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` in milliseconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ConfigError(f"bad duration {text!r}: use e.g. 30m, 1h, 7d")
    return int(float(match.group(1)) * _UNITS_S[match.group(2)] * 1000)


def parse_instant_ms(text: str) -> int:
    """An ISO 8601 date or time (UTC unless it says otherwise) or epoch milliseconds."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"bad time {text!r}: use ISO 8601 (2026-12-01T10:00) or epoch ms") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def time_range(since: str | None, start: str | None, end: str | None, now_ms: int) -> TimeRange:
    """The range the flags ask for: ``since`` is relative to ``now_ms`` and excludes ``start``."""
    if since is not None and start is not None:
        raise ConfigError("give --since or --from, not both")
    start_ms = now_ms - parse_duration_ms(since) if since is not None else None
    if start is not None:
        start_ms = parse_instant_ms(start)
    end_ms = parse_instant_ms(end) if end is not None else None
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        raise ConfigError("--to must be after the start of the range")
    return TimeRange(start_ms, end_ms)
