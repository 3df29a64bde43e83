"""Screening before limits: the deadline first, then the guards in order; refusals name the rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.screen import check_deadline, precheck, run_guards
from gateway.settings import GuardSettings, load_settings
from guards.base import PASS, Block, GuardInput, Verdict
from guards.registry import build_guards, of_stage
from schemas.codes import ErrorCode
from tests.support.factories import make_request

NOW_MS = 1_750_000_000_000


@dataclass
class FakeGuard:
    """A guard that blocks (or not) and records what it saw."""

    name: str
    blocks: bool = False
    seen: list[GuardInput] = field(default_factory=list)
    stage: str = "admission"

    def check(self, subject: GuardInput) -> Verdict:
        self.seen.append(subject)
        if self.blocks:
            return Verdict.blocking(
                Block(code=ErrorCode.GUARDRAIL_BLOCKED, message=f"{self.name} says no", rule="rule_x")
            )
        return PASS


def test_no_deadline_never_expires() -> None:
    assert check_deadline(make_request(), NOW_MS) is None


def test_a_future_deadline_passes() -> None:
    assert check_deadline(make_request(deadline_ms=NOW_MS + 1), NOW_MS) is None


def test_a_deadline_reached_or_passed_is_deadline_exceeded() -> None:
    for deadline in (NOW_MS, NOW_MS - 250):
        error = check_deadline(make_request(deadline_ms=deadline), NOW_MS)
        assert error is not None and error.code is ErrorCode.DEADLINE_EXCEEDED
    late = check_deadline(make_request(deadline_ms=NOW_MS - 250), NOW_MS)
    assert late is not None and "250 ms" in late.message


def test_guards_run_in_order_and_the_first_block_wins() -> None:
    first, second, third = FakeGuard("first"), FakeGuard("second", blocks=True), FakeGuard("third", blocks=True)
    request = make_request()
    error = run_guards(request, 321, [first, second, third])
    assert error is not None and error.code is ErrorCode.GUARDRAIL_BLOCKED
    assert error.message == "second says no" and error.limit == "second.rule_x"
    assert error.details == [{"guard": "second", "rule": "rule_x"}]
    assert first.seen == [GuardInput(request=request, raw_size=321)] and len(second.seen) == 1
    assert third.seen == []  # never asked once a guard blocked


def test_no_guard_blocking_lets_the_request_through() -> None:
    assert run_guards(make_request(), 10, [FakeGuard("a"), FakeGuard("b")]) is None
    assert run_guards(make_request(), 10, []) is None


def test_precheck_reports_the_deadline_before_any_guard() -> None:
    guard = FakeGuard("g", blocks=True)
    error = precheck(make_request(deadline_ms=NOW_MS - 1), 10, [guard], NOW_MS)
    assert error is not None and error.code is ErrorCode.DEADLINE_EXCEEDED
    assert guard.seen == []


def test_precheck_runs_the_guards_when_the_deadline_is_fine() -> None:
    error = precheck(make_request(deadline_ms=NOW_MS + 1_000), 10, [FakeGuard("g", blocks=True)], NOW_MS)
    assert error is not None and error.limit == "g.rule_x"


def test_the_configured_size_guard_names_its_limit() -> None:
    guards = of_stage(build_guards(load_settings(guards=GuardSettings(max_prompt_chars=5))), "admission")
    error = precheck(make_request("this is longer than five"), 100, guards, NOW_MS)
    assert error is not None and error.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert error.limit == "size.max_prompt_chars"


def test_a_content_guards_block_comes_before_the_admission_guards() -> None:
    prior = Block(code=ErrorCode.GUARDRAIL_BLOCKED, message="injection", rule="dan")
    from agents.guarding import block_error

    guard = FakeGuard("g", blocks=True)
    error = precheck(make_request(), 10, [guard], NOW_MS, prior=block_error("injection", prior))
    assert error is not None and error.limit == "injection.dan" and guard.seen == []
