"""admit / settle / release / snapshot: limits, codes, retry-after, rolling and the no-overshoot guarantee."""

from __future__ import annotations

import calendar
import dataclasses
import random
from collections import Counter, defaultdict

import pytest

from gateway.limits.decide import Estimate, Reservation, admit, release, settle
from gateway.limits.policy import Limits
from gateway.limits.snapshot import snapshot
from gateway.limits.state import UsageState
from schemas.codes import ErrorCode


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: float = 0.0) -> float:
    """Epoch seconds of a UTC wall-clock time."""
    return calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0)) + second


NOW = ts(2025, 6, 15, 12, 0, 30.0)  # 30 s into a 60 s window
EST = Estimate(input_tokens=100, max_output_tokens=400, worst_case_usd=0.01)  # 500 tokens
NONE = Limits()
FRESH = UsageState()


def admit_n(
    t: UsageState, u: UsageState, tl: Limits, ul: Limits, n: int, now: float = NOW
) -> tuple[UsageState, UsageState]:
    for _ in range(n):
        decision = admit(t, u, tl, ul, EST, now)
        assert decision.admitted, decision
        t, u = decision.tenant_state, decision.user_state
    return t, u


def assert_non_negative(state: UsageState) -> None:
    for field in dataclasses.fields(state):
        value = getattr(state, field.name)
        if isinstance(value, int | float):
            assert value >= 0, (field.name, state)


def test_admission_counts_and_reserves_in_both_states() -> None:
    decision = admit(FRESH, FRESH, NONE, NONE, EST, NOW)
    assert decision.admitted and decision.code is None and decision.limit is None
    assert decision.reservation == Reservation(tokens=500, usd=0.01)
    for state in (decision.tenant_state, decision.user_state):
        assert state.window_start == ts(2025, 6, 15, 12, 0)
        assert (state.requests, state.inflight, state.tokens) == (1, 1, 0)
        assert (state.reserved_tokens, state.reserved_usd) == (500, 0.01)
        assert (state.day, state.month, state.day_usd, state.month_usd) == ("2025-06-15", "2025-06", 0.0, 0.0)


WINDOW_WAIT = 30_000
DAY_WAIT = int((ts(2025, 6, 16) - NOW) * 1000)
MONTH_WAIT = int((ts(2025, 7, 1) - NOW) * 1000)


@pytest.mark.parametrize("scope", ["user", "tenant"])
@pytest.mark.parametrize(
    ("limits", "admitted", "code", "name", "wait_ms"),
    [
        (Limits(requests_per_window=2), 2, ErrorCode.RATE_LIMITED, "requests_per_window", WINDOW_WAIT),
        (Limits(tokens_per_window=1200), 2, ErrorCode.RATE_LIMITED, "tokens_per_window", WINDOW_WAIT),
        (Limits(tokens_per_window=1000), 2, ErrorCode.RATE_LIMITED, "tokens_per_window", WINDOW_WAIT),
        (Limits(usd_per_day=0.025), 2, ErrorCode.BUDGET_EXHAUSTED, "usd_per_day", DAY_WAIT),
        (Limits(usd_per_month=0.03), 3, ErrorCode.BUDGET_EXHAUSTED, "usd_per_month", MONTH_WAIT),
    ],
)
def test_each_limit_rejects_with_code_name_and_retry_after(
    scope: str, limits: Limits, admitted: int, code: ErrorCode, name: str, wait_ms: int
) -> None:
    tl, ul = (NONE, limits) if scope == "user" else (limits, NONE)
    t, u = admit_n(FRESH, FRESH, tl, ul, admitted)
    rejected = admit(t, u, tl, ul, EST, NOW)
    assert not rejected.admitted
    assert (rejected.code, rejected.limit, rejected.retry_after_ms) == (code, f"{scope}.{name}", wait_ms)
    # a rejection costs nothing: the very same objects come back, so the caller can skip the writes
    assert rejected.tenant_state is t and rejected.user_state is u
    assert rejected.reservation is None


def test_retry_after_follows_window_length() -> None:
    limits = Limits(requests_per_window=1, window_s=3600)
    t, u = admit_n(FRESH, FRESH, NONE, limits, 1)
    assert admit(t, u, NONE, limits, EST, NOW).retry_after_ms == 3_570_000  # window is 12:00-13:00


def test_retry_after_month_rolls_over_the_year() -> None:
    now = ts(2025, 12, 31, 23, 59, 59.5)
    limits = Limits(usd_per_month=0.01)
    t, u = admit_n(FRESH, FRESH, NONE, limits, 1, now)
    assert admit(t, u, NONE, limits, EST, now).retry_after_ms == 500


@pytest.mark.parametrize(
    ("limits", "name"),
    [
        (Limits(requests_per_window=0), "user.requests_per_window"),
        (Limits(tokens_per_window=499), "user.tokens_per_window"),
        (Limits(usd_per_day=0.009), "user.usd_per_day"),
        (Limits(usd_per_month=0.0), "user.usd_per_month"),
    ],
)
def test_request_that_can_never_fit_has_no_retry_after(limits: Limits, name: str) -> None:
    decision = admit(FRESH, FRESH, NONE, limits, EST, NOW)
    assert not decision.admitted
    assert (decision.limit, decision.retry_after_ms) == (name, None)


def test_reported_limit_is_the_one_closed_longest() -> None:
    user_limits = Limits(requests_per_window=1)
    tenant_limits = Limits(usd_per_day=0.01)
    t, u = admit_n(FRESH, FRESH, tenant_limits, user_limits, 1)
    decision = admit(t, u, tenant_limits, user_limits, EST, NOW)
    assert (decision.code, decision.limit, decision.retry_after_ms) == (
        ErrorCode.BUDGET_EXHAUSTED, "tenant.usd_per_day", DAY_WAIT,
    )  # fmt: skip
    # on a tie the user's limit is reported before the tenant's
    both = Limits(requests_per_window=1)
    t, u = admit_n(FRESH, FRESH, both, both, 1)
    assert admit(t, u, both, both, EST, NOW).limit == "user.requests_per_window"


def test_window_roll_resets_requests_but_keeps_in_flight_reservations() -> None:
    limits = Limits(requests_per_window=2)
    t, u = admit_n(FRESH, FRESH, NONE, limits, 2)
    assert not admit(t, u, NONE, limits, EST, NOW + 29.9).admitted
    decision = admit(t, u, NONE, limits, EST, NOW + 30)  # 12:01:00, a new window
    assert decision.admitted
    state = decision.user_state
    assert (state.window_start, state.requests) == (ts(2025, 6, 15, 12, 1), 1)
    assert (state.inflight, state.reserved_tokens) == (3, 1500)


def test_window_roll_resets_settled_tokens() -> None:
    limits = Limits(tokens_per_window=1200)
    decision = admit(FRESH, FRESH, NONE, limits, EST, NOW)
    assert decision.reservation is not None
    t, u = settle(decision.tenant_state, decision.user_state, decision.reservation, 1000, 0.01, NOW + 1)
    assert (u.tokens, u.reserved_tokens) == (1000, 0)
    assert admit(t, u, NONE, limits, EST, NOW + 2).limit == "user.tokens_per_window"
    rolled = admit(t, u, NONE, limits, EST, NOW + 30)
    assert rolled.admitted and rolled.user_state.tokens == 0


def test_day_roll_resets_daily_spend_and_month_roll_resets_monthly_spend() -> None:
    limits = Limits(usd_per_day=0.02, usd_per_month=0.03)
    t, u = FRESH, FRESH
    for _ in range(2):
        decision = admit(t, u, NONE, limits, EST, NOW)
        assert decision.reservation is not None
        t, u = settle(decision.tenant_state, decision.user_state, decision.reservation, 500, 0.01, NOW)
    assert (u.day_usd, u.month_usd, u.reserved_usd) == (0.02, 0.02, 0.0)
    assert admit(t, u, NONE, limits, EST, NOW).limit == "user.usd_per_day"

    next_day = admit(t, u, NONE, limits, EST, ts(2025, 6, 16))
    assert next_day.admitted
    assert (next_day.user_state.day, next_day.user_state.day_usd) == ("2025-06-16", 0.0)
    assert (next_day.user_state.month, next_day.user_state.month_usd) == ("2025-06", 0.02)
    assert next_day.reservation is not None
    t, u = settle(next_day.tenant_state, next_day.user_state, next_day.reservation, 500, 0.01, ts(2025, 6, 16))
    blocked = admit(t, u, NONE, limits, EST, ts(2025, 6, 30, 23))
    assert (blocked.limit, blocked.retry_after_ms) == ("user.usd_per_month", 3_600_000)

    next_month = admit(t, u, NONE, limits, EST, ts(2025, 7, 1))
    assert next_month.admitted
    assert (next_month.user_state.month, next_month.user_state.month_usd) == ("2025-07", 0.0)


def test_settling_below_the_worst_case_frees_budget() -> None:
    limits = Limits(usd_per_day=0.035)
    decisions = []
    t, u = FRESH, FRESH
    for _ in range(3):
        decision = admit(t, u, NONE, limits, EST, NOW)
        assert decision.admitted
        decisions.append(decision)
        t, u = decision.tenant_state, decision.user_state
    assert admit(t, u, NONE, limits, EST, NOW).limit == "user.usd_per_day"
    first = decisions[0].reservation
    assert first is not None
    t, u = settle(t, u, first, actual_tokens=120, actual_usd=0.004, now=NOW + 1)
    assert (u.tokens, u.reserved_tokens, u.reserved_usd, u.day_usd, u.inflight) == (120, 1000, 0.02, 0.004, 2)
    assert u.requests == 3  # requests are counted at admission and never refunded
    assert admit(t, u, NONE, limits, EST, NOW + 1).admitted  # 0.004 + 0.02 + 0.01 <= 0.035


def test_settle_after_a_roll_charges_the_current_window_and_day() -> None:
    decision = admit(FRESH, FRESH, NONE, NONE, EST, ts(2025, 6, 15, 23, 59, 59.0))
    assert decision.reservation is not None
    t, u = settle(decision.tenant_state, decision.user_state, decision.reservation, 450, 0.009, ts(2025, 6, 16))
    for state in (t, u):
        assert (state.window_start, state.requests, state.tokens) == (ts(2025, 6, 16), 0, 450)
        assert (state.day, state.day_usd, state.month, state.month_usd) == (
            "2025-06-16",
            0.009,
            "2025-06",
            0.009,
        )
        assert (state.reserved_tokens, state.reserved_usd, state.inflight) == (0, 0.0, 0)


def test_release_returns_the_reservation_without_charging() -> None:
    decision = admit(FRESH, FRESH, NONE, NONE, EST, NOW)
    t, u = release(decision.tenant_state, decision.user_state, EST, NOW + 1)  # an Estimate is accepted too
    for state in (t, u):
        assert (state.requests, state.tokens, state.inflight) == (1, 0, 0)
        assert (state.reserved_tokens, state.reserved_usd, state.day_usd, state.month_usd) == (
            0,
            0.0,
            0.0,
            0.0,
        )


def test_settle_never_drives_counters_negative() -> None:
    res = Reservation(tokens=500, usd=0.01)
    t, u = settle(FRESH, FRESH, res, 10, 0.001, NOW)  # e.g. the state was lost or reset
    t, u = release(t, u, res, NOW)  # and once more
    for state in (t, u):
        assert_non_negative(state)
        assert (state.reserved_tokens, state.reserved_usd, state.inflight, state.tokens) == (0, 0.0, 0, 10)


def test_settle_rejects_negative_actuals_and_estimates_reject_negatives() -> None:
    with pytest.raises(ValueError):
        settle(FRESH, FRESH, EST, -1, 0.0, NOW)
    with pytest.raises(ValueError):
        settle(FRESH, FRESH, EST, 0, -0.01, NOW)
    with pytest.raises(ValueError):
        Estimate(input_tokens=-1, max_output_tokens=0, worst_case_usd=0.0)


def test_usd_arithmetic_is_exact_at_the_limit() -> None:
    limits = Limits(usd_per_day=0.3)
    est = Estimate(input_tokens=1, max_output_tokens=1, worst_case_usd=0.1)  # 0.1 + 0.2 != 0.3 in floats
    t, u = FRESH, FRESH
    reservations = []
    for _ in range(3):
        decision = admit(t, u, NONE, limits, est, NOW)
        assert decision.admitted and decision.reservation is not None
        reservations.append(decision.reservation)
        t, u = decision.tenant_state, decision.user_state
    assert not admit(t, u, NONE, limits, est, NOW).admitted
    for res in reservations:
        t, u = release(t, u, res, NOW)
    assert u.reserved_usd == 0.0 and t.reserved_usd == 0.0


def test_clock_going_backwards_never_rolls_back() -> None:
    t, u = admit_n(FRESH, FRESH, NONE, NONE, 1)
    older = admit(t, u, NONE, NONE, EST, NOW - 3 * 86_400)
    assert older.admitted
    assert (older.user_state.window_start, older.user_state.requests) == (u.window_start, 2)
    assert older.user_state.day == "2025-06-15"


def test_changing_window_length_starts_a_fresh_window() -> None:
    t, u = admit_n(FRESH, FRESH, NONE, NONE, 3)
    decision = admit(t, u, NONE, Limits(window_s=3600), EST, NOW)
    assert (decision.user_state.window_s, decision.user_state.window_start) == (3600, ts(2025, 6, 15, 12))
    assert (decision.user_state.requests, decision.user_state.inflight) == (1, 4)
    assert decision.tenant_state.requests == 4


def test_500_requests_against_a_budget_of_100_admits_exactly_100() -> None:
    limits = Limits(usd_per_day=100 * EST.worst_case_usd)
    t, u = FRESH, FRESH
    outcomes = []
    for i in range(500):
        decision = admit(t, u, NONE, limits, EST, NOW + i * 0.01)
        outcomes.append(decision.admitted)
        t, u = decision.tenant_state, decision.user_state
    assert sum(outcomes) == 100 and all(outcomes[:100])
    assert u.reserved_usd == 1.0


def _simulate(
    seed: int, tenant_limits: Limits, user_limits: Limits, start: float, mean_step_s: float
) -> tuple[Counter[str | None], dict[int, int], dict[str, float], int]:
    """500 requests from one user; admits and settles interleaved at random, time moving forward.

    Checks after every step that no counter is negative and that committed + reserved <= limit; returns the
    decision counts by tripped limit, the tokens charged per window, the USD per day and the admissions.
    """
    rng = random.Random(seed)
    t, u = FRESH, FRESH
    now = start
    pending: list[Reservation] = []
    reasons: Counter[str | None] = Counter()
    charged_tokens: defaultdict[int, int] = defaultdict(int)
    charged_usd: defaultdict[str, float] = defaultdict(float)
    attempts = 0
    while attempts < 500 or pending:
        now += rng.expovariate(1 / mean_step_s)
        if attempts < 500 and (not pending or rng.random() < 0.6):
            attempts += 1
            decision = admit(t, u, tenant_limits, user_limits, EST, now)
            reasons[decision.limit] += 1
            if decision.admitted:
                assert decision.reservation is not None
                pending.append(decision.reservation)
            t, u = decision.tenant_state, decision.user_state
        else:
            res = pending.pop(rng.randrange(len(pending)))
            tokens = rng.randint(0, res.tokens)
            usd = round(res.usd * tokens / res.tokens, 10)  # actual <= worst case
            t, u = settle(t, u, res, tokens, usd, now)
            charged_tokens[t.window_start] += tokens
            charged_usd[u.day] = round(charged_usd[u.day] + usd, 10)
        for state, limits in ((t, tenant_limits), (u, user_limits)):
            assert_non_negative(state)
            if limits.tokens_per_window is not None:
                assert state.tokens + state.reserved_tokens <= limits.tokens_per_window
            if limits.usd_per_day is not None:
                assert round(state.day_usd + state.reserved_usd, 10) <= limits.usd_per_day
    for state in (t, u):
        assert (state.inflight, state.reserved_tokens, state.reserved_usd) == (0, 0, 0.0)
    return reasons, dict(charged_tokens), dict(charged_usd), reasons[None]


@pytest.mark.parametrize("seed", range(5))
def test_500_interleaved_requests_never_overshoot_a_budget_of_100(seed: int) -> None:
    budget = 100 * EST.worst_case_usd
    reasons, _, charged_usd, admitted = _simulate(
        seed, NONE, Limits(usd_per_day=budget), ts(2025, 6, 15, 8), mean_step_s=1.0
    )
    assert list(charged_usd) == ["2025-06-15"]
    assert charged_usd["2025-06-15"] <= budget
    assert reasons["user.usd_per_day"] > 0, "the budget should bind"
    # settling below the worst case frees budget, so more than 100 fit, but never more than the money allows
    assert 100 <= admitted < 500


@pytest.mark.parametrize("seed", range(5))
def test_interleaving_across_window_and_day_boundaries_never_overshoots(seed: int) -> None:
    tenant_limits = Limits(tokens_per_window=25 * EST.tokens, window_s=60)
    user_limits = Limits(usd_per_day=50 * EST.worst_case_usd)
    reasons, charged_tokens, charged_usd, _ = _simulate(
        seed, tenant_limits, user_limits, ts(2025, 6, 15, 23, 56), mean_step_s=0.5
    )
    assert list(charged_usd) == ["2025-06-15", "2025-06-16"], "the run should cross midnight"
    assert len(charged_tokens) > 3, "the run should cross window boundaries"
    assert reasons["tenant.tokens_per_window"] > 0 and reasons["user.usd_per_day"] > 0
    assert max(charged_tokens.values()) <= 25 * EST.tokens
    assert max(charged_usd.values()) <= 50 * EST.worst_case_usd


def test_states_never_negative_under_random_operations() -> None:
    rng = random.Random(7)
    limits = Limits(requests_per_window=5, tokens_per_window=3000, usd_per_day=0.05, usd_per_month=0.2)
    t, u = FRESH, FRESH
    now = NOW
    for _ in range(2000):
        now += rng.uniform(-30, 120)  # including a clock going backwards
        op = rng.random()
        if op < 0.5:
            decision = admit(t, u, limits, limits, EST, now)
            t, u = decision.tenant_state, decision.user_state
        else:  # settle or release reservations that may never have been made (replays, lost state)
            res = Reservation(tokens=rng.randint(0, 2000), usd=round(rng.uniform(0, 0.03), 10))
            if op < 0.75:
                t, u = release(t, u, res, now)
            else:
                t, u = settle(t, u, res, rng.randint(0, 600), round(rng.uniform(0, 0.01), 10), now)
        assert_non_negative(t)
        assert_non_negative(u)


def test_snapshot_shows_usage_against_each_limit() -> None:
    limits = Limits(requests_per_window=10, tokens_per_window=5000, usd_per_day=1.0)
    decision = admit(FRESH, FRESH, NONE, limits, EST, NOW)
    assert decision.reservation is not None
    first = admit(decision.tenant_state, decision.user_state, NONE, limits, EST, NOW)
    _, u = settle(first.tenant_state, first.user_state, decision.reservation, 300, 0.006, NOW)
    view = snapshot(u, limits, NOW + 1)
    assert (view["window_start"], view["window_s"], view["in_flight"]) == (ts(2025, 6, 15, 12), 60, 1)
    assert (view["day"], view["month"]) == ("2025-06-15", "2025-06")
    assert view["limits"]["requests_per_window"] == {
        "used": 2, "reserved": 0, "limit": 10, "remaining": 8, "resets_at": ts(2025, 6, 15, 12, 1),
    }  # fmt: skip
    assert view["limits"]["tokens_per_window"] == {
        "used": 300, "reserved": 500, "limit": 5000, "remaining": 4200, "resets_at": ts(2025, 6, 15, 12, 1),
    }  # fmt: skip
    assert view["limits"]["usd_per_day"] == {
        "used": 0.006, "reserved": 0.01, "limit": 1.0, "remaining": 0.984, "resets_at": ts(2025, 6, 16),
    }  # fmt: skip
    assert view["limits"]["usd_per_month"]["limit"] is None
    assert view["limits"]["usd_per_month"]["remaining"] is None
    assert view["limits"]["usd_per_month"]["resets_at"] == ts(2025, 7, 1)
    # a snapshot after the window rolled shows the new window, without modifying the stored state
    later = snapshot(u, limits, NOW + 60)
    assert later["limits"]["requests_per_window"]["used"] == 0
    assert u.requests == 2
