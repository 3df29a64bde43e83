"""Output validation against the request's JSON schema, with exactly one corrective retry."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agents.job import Job
from agents.validate import check_output, corrective_turn, validate
from gateway.errors import ProviderUnavailable
from schemas.codes import ErrorCode
from schemas.result import Attempt
from tests.support.completers import ROUTE, ScriptedCompleter, outcome
from tests.support.factories import make_job, make_request

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city"],
    "additionalProperties": False,
}
GOOD = '{"city": "Paris", "population": 2100000}'
BAD = '{"city": "Paris", "population": "lots"}'
FIRST_ATTEMPT = Attempt(provider="openai", model="gpt-4o-mini", outcome="ok", latency_ms=30.0, status=200)


def answered_job(output: str | None, **fields: Any) -> Job:
    """A routed, schema-bound job as the complete stage leaves it."""
    request = fields.pop("request", None) or make_request(response_format=SCHEMA)
    values: dict[str, Any] = {
        "status": "ok",
        "output": output,
        "model": "gpt-4o-mini",
        "provider": "openai",
        "route": ROUTE,
        "input_tokens": 40,
        "output_tokens": 9,
        "attempt_log": (FIRST_ATTEMPT,),
    }
    values.update(fields)
    return make_job(request, **values)


# --- check_output -----------------------------------------------------------------------------------------------


def test_valid_output_is_parsed() -> None:
    assert check_output(GOOD, SCHEMA) == ({"city": "Paris", "population": 2100000}, None)


def test_output_against_the_schema_says_where() -> None:
    parsed, why = check_output(BAD, SCHEMA)
    assert parsed is None and why is not None
    assert why.startswith("output does not match the schema at population:")


def test_a_root_level_mismatch_says_root() -> None:
    _, why = check_output('{"population": 1}', SCHEMA)
    assert why is not None and "at <root>" in why and "city" in why


def test_output_that_is_not_json_says_so() -> None:
    parsed, why = check_output("Sure! Here is the JSON: {", SCHEMA)
    assert parsed is None and why is not None and why.startswith("output is not JSON")


@pytest.mark.parametrize(
    "schema",
    [{"type": "nonsense"}, {"type": 12}, {"properties": 5}, {"required": "city"}, {"$ref": "#/definitions/missing"}],
)
def test_a_bad_schema_is_reported_not_raised(schema: dict[str, Any]) -> None:
    parsed, why = check_output(GOOD, schema)
    assert parsed is None and why is not None
    assert why.startswith("response_format is not a valid JSON schema")


# --- validate ---------------------------------------------------------------------------------------------------


async def test_a_valid_output_gets_parsed_without_a_retry() -> None:
    completer = ScriptedCompleter([])
    job = await validate(answered_job(GOOD), completer, max_request_s=30)
    assert job.status == "ok" and job.parsed == {"city": "Paris", "population": 2100000}
    assert completer.calls == []


async def test_an_invalid_output_is_retried_once_with_the_error_and_the_correction_wins() -> None:
    completer = ScriptedCompleter([outcome('{"city": "Lyon"}', input_tokens=60, output_tokens=6)])
    first = answered_job(BAD)
    job = await validate(first, completer, max_request_s=30)
    assert job.status == "ok" and job.output == '{"city": "Lyon"}' and job.parsed == {"city": "Lyon"}
    assert (job.input_tokens, job.output_tokens) == (100, 15)  # both calls are paid for
    assert job.attempt_log[0] == FIRST_ATTEMPT and len(job.attempt_log) == 2
    (call,) = completer.calls
    assert call.attempt_key == "schema-retry" and call.request is first.request and call.route is ROUTE
    _, why = check_output(BAD, SCHEMA)
    assert why is not None
    assert call.extra_messages == corrective_turn(BAD, why)
    assert call.extra_messages[0].role == "assistant" and call.extra_messages[0].content == BAD
    assert call.extra_messages[1].role == "user" and why in call.extra_messages[1].content
    assert call.deadline > time.monotonic()


async def test_a_second_invalid_output_is_output_invalid() -> None:
    completer = ScriptedCompleter([outcome("still not json")])
    job = await validate(answered_job(BAD), completer, max_request_s=30)
    assert job.status == "error" and job.error is not None
    assert job.error.code is ErrorCode.OUTPUT_INVALID and job.error.message.startswith("after one retry:")
    assert len(completer.calls) == 1


async def test_a_failed_retry_is_output_invalid_with_its_attempts() -> None:
    failure = ProviderUnavailable("503 from upstream", provider="openai", model="gpt-4o-mini", status=503)
    retry_attempt = Attempt(provider="openai", model="gpt-4o-mini", outcome="provider_unavailable", latency_ms=5.0)
    failure.attempts = [retry_attempt]  # type: ignore[attr-defined]
    job = await validate(answered_job(BAD), ScriptedCompleter([failure]), max_request_s=30)
    assert job.status == "error" and job.error is not None and job.error.code is ErrorCode.OUTPUT_INVALID
    assert "retry failed: 503 from upstream" in job.error.message
    assert job.attempt_log == (FIRST_ATTEMPT, retry_attempt)


async def test_a_cached_bad_output_is_not_retried() -> None:
    completer = ScriptedCompleter([outcome(GOOD)])
    job = await validate(answered_job(BAD, cached=True), completer, max_request_s=30)
    assert job.status == "error" and job.error is not None and job.error.code is ErrorCode.OUTPUT_INVALID
    assert completer.calls == []


async def test_a_bad_output_past_the_deadline_is_not_retried() -> None:
    request = make_request(response_format=SCHEMA, deadline_ms=int(time.time() * 1000) - 1)
    completer = ScriptedCompleter([outcome(GOOD)])
    job = await validate(answered_job(BAD, request=request), completer, max_request_s=30)
    assert job.error is not None and job.error.code is ErrorCode.OUTPUT_INVALID
    assert completer.calls == []


async def test_a_job_without_a_route_is_not_retried() -> None:
    completer = ScriptedCompleter([outcome(GOOD)])
    job = await validate(answered_job(BAD, route=None), completer, max_request_s=30)
    assert job.error is not None and job.error.code is ErrorCode.OUTPUT_INVALID and completer.calls == []


@pytest.mark.parametrize(
    "job",
    [
        answered_job(BAD, request=make_request()),  # no schema: free text
        answered_job(BAD, status="error"),
        answered_job(None),
    ],
    ids=["no-schema", "not-ok", "no-output"],
)
async def test_jobs_without_a_schema_bound_answer_pass_through(job: Job) -> None:
    completer = ScriptedCompleter([])
    assert await validate(job, completer, max_request_s=30) is job
