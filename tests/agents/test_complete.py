"""The complete stage: the request's deadline, mapping failures onto result errors, and the outcome."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agents.complete import apply_outcome, complete, deadline_for, error_from
from gateway.errors import ProviderBadRequest, StreamgateError
from gateway.resilience.errors import AllLinksFailed
from schemas.codes import ErrorCode
from schemas.internal import Reservation
from schemas.result import Attempt, ErrorInfo
from tests.support.completers import LINK, ROUTE, ScriptedCompleter, outcome
from tests.support.factories import make_job, make_request

FAILED = Attempt(provider="openai", model="gpt-4o-mini", outcome="provider_unavailable", latency_ms=8.0, status=503)
SKIPPED = Attempt(provider="anthropic", model="claude-3-5-haiku", outcome="circuit_open", latency_ms=0.0)
LINK_ERRORS: list[dict[str, Any]] = [
    {"provider": "openai", "model": "gpt-4o-mini", "code": "provider_unavailable", "message": "503", "status": 503},
    {"provider": "anthropic", "model": "claude-3-5-haiku", "code": "circuit_open", "message": "open", "status": None},
]


def all_failed() -> AllLinksFailed:
    return AllLinksFailed("every link failed", attempts=[FAILED, SKIPPED], link_errors=list(LINK_ERRORS))


# --- deadline_for -----------------------------------------------------------------------------------------------


def test_without_deadline_ms_the_budget_is_max_request_s() -> None:
    before = time.monotonic()
    deadline = deadline_for(make_request(), 30.0)
    assert before + 30.0 <= deadline <= time.monotonic() + 30.0


def test_a_sooner_deadline_ms_shortens_the_budget() -> None:
    now_ms = 1_750_000_000_000
    before = time.monotonic()
    deadline = deadline_for(make_request(deadline_ms=now_ms + 2_500), 30.0, now_ms=now_ms)
    assert before + 2.5 <= deadline <= time.monotonic() + 2.5


def test_a_later_deadline_ms_keeps_the_policy_budget() -> None:
    now_ms = 1_750_000_000_000
    before = time.monotonic()
    deadline = deadline_for(make_request(deadline_ms=now_ms + 600_000), 30.0, now_ms=now_ms)
    assert before + 30.0 <= deadline <= time.monotonic() + 30.0


def test_a_passed_deadline_ms_is_already_due() -> None:
    assert deadline_for(make_request(deadline_ms=int(time.time() * 1000) - 1_000), 30.0) < time.monotonic()


# --- error_from -------------------------------------------------------------------------------------------------


def test_a_streamgate_error_keeps_its_code_message_and_link_errors() -> None:
    error = error_from(all_failed())
    assert error == ErrorInfo(code=ErrorCode.ALL_PROVIDERS_FAILED, message="every link failed", details=LINK_ERRORS)


def test_a_streamgate_error_without_link_errors_has_no_details() -> None:
    error = error_from(ProviderBadRequest("bad field", provider="openai", model="gpt-4o-mini", status=400))
    assert error.code is ErrorCode.PROVIDER_BAD_REQUEST and error.message == "bad field" and error.details == []


def test_an_unexpected_exception_is_an_internal_error() -> None:
    error = error_from(KeyError("choices"))
    assert error.code is ErrorCode.INTERNAL_ERROR and error.message == "KeyError: 'choices'"


# --- complete ---------------------------------------------------------------------------------------------------


async def test_a_successful_call_fills_in_the_answer() -> None:
    completer = ScriptedCompleter([outcome("Paris.", input_tokens=12, output_tokens=3)])
    job = make_job(route=ROUTE)
    done = await complete(job, completer, max_request_s=30)
    assert done.status == "ok" and done.output == "Paris." and done.error is None
    assert (done.model, done.provider) == (LINK.model, LINK.provider)
    assert (done.input_tokens, done.output_tokens) == (12, 3) and len(done.attempt_log) == 1
    (call,) = completer.calls
    assert call.request is job.request and call.route is ROUTE and call.attempt_key == "" and call.extra_messages == ()
    assert call.estimated_tokens is None  # no reservation: the completer counts for itself


async def test_the_reservation_spares_the_completer_a_second_token_count() -> None:
    completer = ScriptedCompleter([outcome("Paris.")])
    job = make_job(route=ROUTE, reservation=Reservation(input_tokens=120, output_tokens=64, usd=0.001, at=1.0))
    await complete(job, completer, max_request_s=30)
    assert completer.calls[0].estimated_tokens == 184


async def test_a_failed_chain_is_an_error_with_every_attempt() -> None:
    done = await complete(make_job(route=ROUTE), ScriptedCompleter([all_failed()]), max_request_s=30)
    assert done.status == "error" and done.error is not None
    assert done.error.code is ErrorCode.ALL_PROVIDERS_FAILED and done.error.details == LINK_ERRORS
    assert done.attempt_log == (FAILED, SKIPPED) and done.output is None


async def test_an_unexpected_failure_is_an_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    done = await complete(make_job(route=ROUTE), ScriptedCompleter([RuntimeError("bug")]), max_request_s=30)
    assert done.status == "error" and done.error is not None and done.error.code is ErrorCode.INTERNAL_ERROR
    assert "unexpected failure completing" in caplog.text


async def test_an_expired_deadline_fails_without_calling() -> None:
    request = make_request(deadline_ms=int(time.time() * 1000) - 5)
    completer = ScriptedCompleter([outcome("too late")])
    done = await complete(make_job(request, route=ROUTE), completer, max_request_s=30)
    assert done.status == "error" and done.error is not None and done.error.code is ErrorCode.DEADLINE_EXCEEDED
    assert completer.calls == []


async def test_a_finished_or_unrouted_job_is_passed_through() -> None:
    completer = ScriptedCompleter([outcome("x")])
    refused = make_job(route=ROUTE).fail(ErrorInfo(code=ErrorCode.RATE_LIMITED, message="no"), status="rejected")
    unrouted = make_job()
    assert await complete(refused, completer, max_request_s=30) is refused
    assert await complete(unrouted, completer, max_request_s=30) is unrouted
    assert completer.calls == []


def test_token_counts_add_up_and_unknown_counts_stay_unknown() -> None:
    unknown = apply_outcome(make_job(), outcome("a", input_tokens=None, output_tokens=None))
    assert (unknown.input_tokens, unknown.output_tokens) == (None, None)
    summed = apply_outcome(
        make_job(input_tokens=10, output_tokens=None), outcome("b", input_tokens=None, output_tokens=4)
    )
    assert (summed.input_tokens, summed.output_tokens) == (10, 4)


def test_a_streamgate_error_code_survives_as_given() -> None:
    error = error_from(StreamgateError("custom", code=ErrorCode.CONTEXT_TOO_LONG))
    assert error.code is ErrorCode.CONTEXT_TOO_LONG and error.details == []
