"""Usage of one key against its limits, for ``streamgate limits TENANT [USER]``."""

from __future__ import annotations

from typing import TypedDict

from gateway.limits.periods import calendar_of, roll, round_usd
from gateway.limits.policy import Limits
from gateway.limits.state import UsageState


class LimitView(TypedDict):
    """Usage against one limit. ``limit``/``remaining`` are ``None`` when the limit is not configured."""

    used: float
    reserved: float
    limit: float | None
    remaining: float | None
    resets_at: float


class Snapshot(TypedDict):
    """What ``streamgate limits TENANT [USER]`` shows for one key."""

    window_start: int
    window_s: int
    day: str
    month: str
    in_flight: int
    limits: dict[str, LimitView]


def _view(used: float, reserved: float, cap: float | None, resets_at: float) -> LimitView:
    remaining = None if cap is None else max(0, cap - used - reserved)
    if isinstance(remaining, float):
        remaining = round_usd(remaining)
    return LimitView(used=used, reserved=reserved, limit=cap, remaining=remaining, resets_at=resets_at)


def snapshot(state: UsageState, limits: Limits, now: float) -> Snapshot:
    """Usage of one key against each of its limits at ``now`` (rolled forward; ``state`` itself is unchanged).

    ``resets_at`` is the epoch second at which the window, UTC day or UTC month rolls. Requests have no
    reservation: an in-flight request already counts in ``used``.
    """
    state = roll(state, now, limits.window_s)
    _, _, next_day, next_month = calendar_of(now)
    window_end = float(state.window_start + state.window_s)
    return Snapshot(
        window_start=state.window_start,
        window_s=state.window_s,
        day=state.day,
        month=state.month,
        in_flight=state.inflight,
        limits={
            "requests_per_window": _view(state.requests, 0, limits.requests_per_window, window_end),
            "tokens_per_window": _view(state.tokens, state.reserved_tokens, limits.tokens_per_window, window_end),
            "usd_per_day": _view(state.day_usd, state.reserved_usd, limits.usd_per_day, next_day),
            "usd_per_month": _view(state.month_usd, state.reserved_usd, limits.usd_per_month, next_month),
        },
    )
