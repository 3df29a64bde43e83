"""Stable codes to HTTP statuses, and the request id an Idempotency-Key becomes."""

from __future__ import annotations

import pytest

from schemas.codes import ErrorCode
from schemas.result import ErrorInfo
from streamgate.errors import InvalidClientRequest
from streamgate.server.frontdoor import prefers_async, request_id_for
from streamgate.server.keys import Principal
from streamgate.server.status import http_error


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.RATE_LIMITED, 429),
        (ErrorCode.BUDGET_EXHAUSTED, 429),
        (ErrorCode.GUARDRAIL_BLOCKED, 400),
        (ErrorCode.INVALID_REQUEST, 400),
        (ErrorCode.CONTEXT_TOO_LONG, 400),
        (ErrorCode.MODEL_NOT_FOUND, 404),
        (ErrorCode.DEADLINE_EXCEEDED, 504),
        (ErrorCode.ALL_PROVIDERS_FAILED, 502),
        (ErrorCode.OUTPUT_INVALID, 502),
        (ErrorCode.UNAUTHENTICATED, 403),  # the front door signs: a refusal means its config lacks the tenant's key
    ],
)
def test_each_code_has_its_status(code: ErrorCode, status: int) -> None:
    assert http_error(ErrorInfo(code=code, message="m")).status == status


def test_a_429_says_when_to_retry_in_whole_seconds() -> None:
    limited = http_error(ErrorInfo(code=ErrorCode.RATE_LIMITED, message="m", retry_after_ms=1200, limit="user.rpm"))
    assert limited.headers == {"Retry-After": "2"} and limited.limit == "user.rpm"
    budget = http_error(ErrorInfo(code=ErrorCode.BUDGET_EXHAUSTED, message="m", retry_after_ms=None))
    assert budget.headers == {"Retry-After": "1", "x-should-retry": "false"}


def test_an_idempotency_key_gives_one_id_per_principal_and_never_another_s() -> None:
    alice, mallory = Principal("acme", "alice"), Principal("evil", "alice")
    assert request_id_for(alice, "k1") == request_id_for(alice, "k1") != request_id_for(mallory, "k1")
    assert request_id_for(alice, None) != request_id_for(alice, None)
    with pytest.raises(InvalidClientRequest):
        request_id_for(alice, "x" * 256)


def test_prefer_respond_async_is_found_among_other_preferences() -> None:
    assert prefers_async({"prefer": "return=minimal, respond-async; wait=10"}) and not prefers_async({})
