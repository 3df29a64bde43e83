"""Budget alerts: which configured shares of a USD budget a settlement crossed, deduplicated by the limit state.

A key's :class:`~gateway.limits.state.UsageState` records, per current period (UTC day and month), the highest
share already alerted (``alerted``). :func:`crossings` compares the settled spend with the configured shares and
returns only those not alerted yet in the period, with the state that records them (and ``alert_pending``), so
one alert goes out per period and share, whatever the number of requests, and the mark travels in the same table
write as the spend. :func:`pending_crossings` re-derives the alerts of a state whose ``alert_pending`` was left
set (the worker stopped before they were delivered), so a restart repeats an alert rather than losing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.limits.policy import Limits
from gateway.limits.state import UsageState

BudgetLimit = Literal["usd_per_day", "usd_per_month"]


@dataclass(frozen=True, slots=True)
class Crossing:
    """``spent_usd`` reached ``share`` of ``limit_usd`` (the ``limit`` budget of ``period``)."""

    limit: BudgetLimit
    period: str
    share: float
    spent_usd: float
    limit_usd: float


def marks(state: UsageState) -> dict[str, float]:
    """The highest share alerted per period recorded in ``state``."""
    found: dict[str, float] = {}
    for part in filter(None, state.alerted.split(",")):
        period, _, share = part.rpartition(":")
        found[period] = float(share)
    return found


def _budgets(state: UsageState, limits: Limits) -> list[tuple[BudgetLimit, str, float, float]]:
    pairs: list[tuple[BudgetLimit, float | None, str, float]] = [
        ("usd_per_day", limits.usd_per_day, state.day, state.day_usd),
        ("usd_per_month", limits.usd_per_month, state.month, state.month_usd),
    ]
    return [(name, period, spent, cap) for name, cap, period, spent in pairs if cap and period]


def crossings(state: UsageState, limits: Limits, shares: Sequence[float]) -> tuple[UsageState, list[Crossing]]:
    """The shares of ``limits``' USD budgets that ``state``'s spend reached and that were not alerted yet in the
    period, and ``state`` with them recorded (``alert_pending`` set when there are any; marks of past periods
    dropped). Without a new crossing, ``state`` comes back unchanged."""
    recorded = marks(state)
    found: list[Crossing] = []
    current: dict[str, float] = {}
    for name, period, spent, cap in _budgets(state, limits):
        already = recorded.get(period, 0.0)
        new = [share for share in sorted(shares) if share > already and spent >= share * cap]
        found += [Crossing(name, period, share, spent, cap) for share in new]
        current[period] = max([already, *new])
    if not found:
        return state, []
    alerted = ",".join(f"{period}:{share:g}" for period, share in current.items() if share > 0)
    return state.replace(alerted=alerted, alert_pending=True), found


def pending_crossings(state: UsageState, limits: Limits) -> list[Crossing]:
    """The alerts of a state left with ``alert_pending``: the highest recorded share of each current budget."""
    if not state.alert_pending:
        return []
    recorded = marks(state)
    return [
        Crossing(name, period, recorded[period], spent, cap)
        for name, period, spent, cap in _budgets(state, limits)
        if recorded.get(period, 0.0) > 0
    ]
