"""Time arithmetic shared by the decisions: epoch-aligned windows, UTC days and months, the USD grid."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from gateway.limits.state import UsageState

_DAY_S = 86_400
_EPOCH = date(1970, 1, 1)


def round_usd(amount: float) -> float:
    """``amount`` on the 1e-10 USD grid that every stored USD value lives on."""
    return round(amount, 10)


@lru_cache(maxsize=8)
def _calendar(day_index: int) -> tuple[str, str, float, float]:
    """``(day, month, next day start, next month start)`` of the UTC day ``day_index`` since the epoch."""
    today = _EPOCH + timedelta(days=day_index)
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return (
        today.isoformat(),
        today.isoformat()[:7],
        float((day_index + 1) * _DAY_S),
        float((next_month - _EPOCH).days * _DAY_S),
    )


def roll(state: UsageState, now: float, window_s: int) -> UsageState:
    """``state`` moved forward to the window and UTC day/month of ``now`` (itself when nothing changes).

    A different ``window_s`` (the limits were reconfigured) starts a fresh window.
    """
    start = int(now // window_s) * window_s
    day, month, _, _ = calendar_of(now)
    new_window = window_s != state.window_s or start > state.window_start
    if not new_window and day <= state.day and month <= state.month:
        return state
    return UsageState(
        window_s=window_s,
        window_start=start if new_window else state.window_start,
        requests=0 if new_window else state.requests,
        tokens=0 if new_window else state.tokens,
        inflight=state.inflight,
        reserved_tokens=state.reserved_tokens,
        reserved_usd=state.reserved_usd,
        day=day if day > state.day else state.day,
        day_usd=0.0 if day > state.day else state.day_usd,
        month=month if month > state.month else state.month,
        month_usd=0.0 if month > state.month else state.month_usd,
        alerted=state.alerted,
        alert_pending=state.alert_pending,
    )


def calendar_of(now: float) -> tuple[str, str, float, float]:
    """``(day "YYYY-MM-DD", month "YYYY-MM", next day start, next month start)`` of ``now`` in UTC."""
    return _calendar(int(now // _DAY_S))
