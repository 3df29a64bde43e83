"""Every branch of the screen and settle plans: what a (re)delivered event does given the ledger's record."""

from __future__ import annotations

from typing import get_args

import pytest

from streams.state.ledger_plan import ScreenPlan, SettlePlan, plan_screen, plan_settle
from streams.state.records import RecordState, RequestRecord

OFFSET = 42


def record(state: str, offset: int = OFFSET) -> RequestRecord:
    return RequestRecord(state=state, offset=offset, ts=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("existing", "offset", "in_flight_here", "expected"),
    [
        pytest.param(None, OFFSET, False, ScreenPlan.DECIDE, id="first-sight"),
        pytest.param(None, OFFSET, True, ScreenPlan.DECIDE, id="first-sight-ignores-in-flight"),
        pytest.param(record("reserved"), OFFSET, False, ScreenPlan.RESUME, id="reserved-elsewhere-resumes"),
        pytest.param(record("reserved"), OFFSET + 5, False, ScreenPlan.RESUME, id="reserved-republished-resumes"),
        pytest.param(record("reserved"), OFFSET, True, ScreenPlan.DROP, id="reserved-in-flight-here-drops"),
        pytest.param(record("rejected"), OFFSET, False, ScreenPlan.REPLAY_REJECTION, id="rejected"),
        pytest.param(record("rejected_done"), OFFSET + 1, False, ScreenPlan.REPLAY_REJECTION, id="rejected-done"),
        pytest.param(record("settled"), OFFSET, False, ScreenPlan.SKIP, id="settled-replay-skips"),
        pytest.param(record("done"), OFFSET, True, ScreenPlan.SKIP, id="done-replay-skips"),
        pytest.param(record("settled"), OFFSET + 1, False, ScreenPlan.REANSWER, id="settled-republished"),
        pytest.param(record("done"), OFFSET + 1, False, ScreenPlan.REANSWER, id="done-republished"),
    ],
)
def test_plan_screen(existing: RequestRecord | None, offset: int, in_flight_here: bool, expected: ScreenPlan) -> None:
    assert plan_screen(existing, offset, in_flight_here) is expected


def test_plan_screen_refuses_an_unknown_state() -> None:
    with pytest.raises(ValueError, match="unknown record state 'bogus'"):
        plan_screen(record("bogus"), OFFSET, False)


@pytest.mark.parametrize(
    ("existing", "reemit", "emitting_here", "expected"),
    [
        pytest.param(record("settled"), True, False, SettlePlan.EMIT_RESULT_ONLY, id="reemit-wins-over-record"),
        pytest.param(None, True, True, SettlePlan.EMIT_RESULT_ONLY, id="reemit-without-record"),
        pytest.param(None, False, False, SettlePlan.EMIT, id="no-record-is-never-dropped"),
        pytest.param(None, False, True, SettlePlan.EMIT, id="no-record-emitting-here"),
        pytest.param(record("reserved"), False, False, SettlePlan.APPLY_AND_EMIT, id="reserved-applies"),
        pytest.param(record("reserved"), False, True, SettlePlan.SKIP, id="reserved-being-settled-in-place-skips"),
        pytest.param(record("settled"), False, False, SettlePlan.EMIT, id="settled-replay-emits"),
        pytest.param(record("settled"), False, True, SettlePlan.SKIP, id="settled-emitting-here-skips"),
        pytest.param(record("rejected"), False, False, SettlePlan.EMIT, id="rejected-emits"),
        pytest.param(record("rejected"), False, True, SettlePlan.SKIP, id="rejected-emitting-here-skips"),
        pytest.param(record("done"), False, False, SettlePlan.SKIP, id="done-skips"),
        pytest.param(record("rejected_done"), False, False, SettlePlan.SKIP, id="rejected-done-skips"),
    ],
)
def test_plan_settle(existing: RequestRecord | None, reemit: bool, emitting_here: bool, expected: SettlePlan) -> None:
    assert plan_settle(existing, reemit, emitting_here) is expected


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(record("reserved"), SettlePlan.APPLY_ONLY, id="reserved-applies-without-emitting"),
        pytest.param(None, SettlePlan.SKIP, id="no-record-nothing-to-release"),
        pytest.param(record("settled"), SettlePlan.SKIP, id="settled-already-applied"),
        pytest.param(record("done"), SettlePlan.SKIP, id="done-already-applied"),
        pytest.param(record("rejected"), SettlePlan.SKIP, id="rejected-reserved-nothing"),
    ],
)
def test_a_delivered_hand_over_only_ever_applies_an_open_reservation(
    existing: RequestRecord | None, expected: SettlePlan
) -> None:
    """A worker that lost the partition after delivering hands the usage over: never a second result."""
    for reemit, emitting_here in ((False, False), (True, True)):
        assert plan_settle(existing, reemit, emitting_here, delivered=True) is expected


@pytest.mark.parametrize("state", get_args(RecordState))
def test_every_record_state_has_a_screen_plan(state: str) -> None:
    assert isinstance(plan_screen(record(state), OFFSET, False), ScreenPlan)
