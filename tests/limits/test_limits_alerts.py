"""Budget alerts: once per period and share, recorded in the limit state, re-sent when left pending."""

from __future__ import annotations

import time
from typing import Any

from agents.route import choose_route
from gateway.limits.alerts import crossings, marks, pending_crossings
from gateway.limits.periods import calendar_of
from gateway.limits.policy import Limits, LimitsConfig, TierPolicy
from gateway.limits.state import UsageState
from gateway.settings import Settings, load_settings
from schemas.alert import BudgetAlert
from schemas.result import ErrorInfo
from streams.state.ledger import Ledger
from streams.state.limits_ledger import LimitsLedger, user_key
from tests.support.factories import make_request, make_settlement

LIMITS = Limits(usd_per_day=1.0, usd_per_month=10.0)
DAY, MONTH, _, _ = calendar_of(time.time())


def spent(day_usd: float, month_usd: float | None = None, **fields: Any) -> UsageState:
    month = day_usd if month_usd is None else month_usd
    return UsageState(day=DAY, day_usd=day_usd, month=MONTH, month_usd=month, **fields)


def test_a_share_is_alerted_once_per_period() -> None:
    state, found = crossings(spent(0.79), LIMITS, (0.8,))
    assert found == [] and state == spent(0.79)
    state, found = crossings(spent(0.81), LIMITS, (0.8,))
    assert [(c.limit, c.period, c.share, c.spent_usd, c.limit_usd) for c in found] == [
        ("usd_per_day", DAY, 0.8, 0.81, 1.0)
    ]
    assert state.alert_pending and marks(state) == {DAY: 0.8}
    again, repeated = crossings(state.replace(day_usd=0.9, month_usd=0.9), LIMITS, (0.8,))
    assert repeated == []  # the same period and share: never twice
    tomorrow = again.replace(day="9999-12-31", day_usd=0.85)  # a new day: alerted afresh
    assert [c.period for c in crossings(tomorrow, LIMITS, (0.8,))[1]] == ["9999-12-31"]


def test_several_shares_and_both_budgets_at_once() -> None:
    state, found = crossings(spent(0.96, 8.5), LIMITS, (0.5, 0.8, 0.95))
    assert [(c.limit, c.share) for c in found] == [
        ("usd_per_day", 0.5),
        ("usd_per_day", 0.8),
        ("usd_per_day", 0.95),
        ("usd_per_month", 0.5),
        ("usd_per_month", 0.8),
    ]
    assert marks(state) == {DAY: 0.95, MONTH: 0.8}
    _, later = crossings(state.replace(month_usd=9.6), LIMITS, (0.5, 0.8, 0.95))
    assert [(c.limit, c.share) for c in later] == [("usd_per_month", 0.95)]


def test_no_budget_no_alert() -> None:
    assert crossings(spent(5.0), Limits(), (0.8,))[1] == []
    assert crossings(spent(5.0), LIMITS, ())[1] == []


def test_a_pending_state_yields_its_recorded_alerts_again() -> None:
    state, _ = crossings(spent(0.85), LIMITS, (0.8,))
    assert [(c.limit, c.share) for c in pending_crossings(state, LIMITS)] == [("usd_per_day", 0.8)]
    assert pending_crossings(state.replace(alert_pending=False), LIMITS) == []
    assert UsageState.from_dict(state.to_dict()) == state  # the marks travel in the table value


def books(shares: tuple[float, ...] = (0.8,)) -> tuple[Ledger, dict[str, Any], Settings]:
    config = LimitsConfig(
        tiers={"t": TierPolicy(tenant=Limits(usd_per_day=1.0), user_default=Limits(usd_per_day=0.5))},
        default_tier="t",
        alert_shares=shares,
    )
    records: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    settings = load_settings(limits=config)
    return Ledger(records, LimitsLedger(usage, settings)), usage, settings


def settle(ledger: Ledger, usd: float, settings: Settings) -> list[BudgetAlert]:
    """Admit and settle one request of acme/alice charged ``usd``; the alerts it raised."""
    request = make_request("hello", max_tokens=10)
    plan = choose_route(request, settings)
    assert not isinstance(plan, ErrorInfo)
    ledger.admit(request, 1, None, time.time(), plan=plan)
    return ledger.apply_settlement(make_settlement(request), ledger.record(request), usd=usd, tokens=10)


def test_the_ledger_alerts_the_user_then_the_tenant_once_each_and_clears_after_delivery() -> None:
    ledger, usage, settings = books()
    assert settle(ledger, 0.3, settings) == []
    first = settle(ledger, 0.15, settings)  # user 0.45 of 0.5 -> 90 %: the user's alert; tenant at 45 %
    assert [(a.scope, a.limit, a.share, a.user) for a in first] == [("user", "usd_per_day", 0.8, "alice")]
    ukey = user_key("acme", "alice")
    assert UsageState.from_dict(usage[ukey]).alert_pending
    assert settle(ledger, 0.01, settings) == []  # in flight in this worker: not repeated meanwhile
    ledger.alerts_delivered({ukey})
    assert not UsageState.from_dict(usage[ukey]).alert_pending
    second = settle(ledger, 0.4, settings)  # tenant 0.86 of 1.0
    assert [(a.scope, a.tenant, a.user) for a in second] == [("tenant", "acme", None)]
    assert second[0].alert_id != first[0].alert_id
    assert settle(ledger, 0.05, settings) == []


def test_alerts_left_pending_by_a_stopped_worker_are_sent_again_with_the_same_id() -> None:
    ledger, usage, settings = books()
    (alert,) = settle(ledger, 0.45, settings)  # the user's 80 %; then the worker "stops" before delivery
    restarted = Ledger({}, LimitsLedger(usage, settings))  # a new worker recovers the same table
    again = settle(restarted, 0.0, settings)
    assert [a.alert_id for a in again] == [alert.alert_id]
