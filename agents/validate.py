"""Validate: check the output against the request's JSON schema, with one corrective retry."""

from __future__ import annotations

import time
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from agents.complete import apply_outcome, deadline_for, error_from
from agents.job import Job
from gateway.completion import Completer
from gateway.resilience.errors import attempts_of
from schemas.codes import ErrorCode
from schemas.request import ChatMessage
from schemas.result import ErrorInfo


def check_output(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """``(parsed, None)`` when ``text`` is JSON valid against ``schema``, else ``(None, why)``."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return None, f"output is not JSON: {exc}"
    try:
        # iter_errors never checks the schema itself: a malformed one raises TypeError/UnknownType/... mid-way.
        Draft202012Validator.check_schema(schema)
        error = next(iter(Draft202012Validator(schema).iter_errors(parsed)), None)
    except SchemaError as exc:
        return None, f"response_format is not a valid JSON schema: {exc.message}"
    except Unresolvable as exc:
        return None, f"response_format is not a valid JSON schema: {exc}"
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        return None, f"output does not match the schema at {where}: {error.message}"
    return parsed, None


MAX_REASON_CHARS = 400
_CORRECTION = "Your previous answer was rejected: {why}. Answer again with only JSON that satisfies the schema."
# What the corrective user turn can hold besides the reason, for the reservation (agents.reserve).
CORRECTION_MAX_CHARS = len(_CORRECTION) + MAX_REASON_CHARS


def corrective_turn(previous_output: str, why: str) -> tuple[ChatMessage, ChatMessage]:
    """The two messages appended for the one retry: the bad answer and what was wrong with it.

    The reason is cut to ``MAX_REASON_CHARS`` (a schema error can quote the whole answer), so the retry's prompt
    has a bound the reservation can price before the first call is made."""
    reason = why if len(why) <= MAX_REASON_CHARS else why[: MAX_REASON_CHARS - 3] + "..."
    return (
        ChatMessage(role="assistant", content=previous_output),
        ChatMessage(role="user", content=_CORRECTION.format(why=reason)),
    )


async def validate(job: Job, completer: Completer, *, max_request_s: float) -> Job:
    """Parse and validate a schema-bound output; retry the call once with the validation error, then give up."""
    schema = job.request.response_format
    if job.status != "ok" or schema is None or job.output is None:
        return job
    parsed, why = check_output(job.output, schema)
    if why is None:
        return job.evolve(parsed=parsed)
    if job.cached or job.route is None:
        return job.fail(ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message=why))
    deadline = deadline_for(job.request, max_request_s)
    if deadline <= time.monotonic():
        return job.fail(ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message=why))
    try:
        outcome = await completer.complete(
            job.request,
            job.route,
            deadline=deadline,
            extra_messages=corrective_turn(job.output, why),
            attempt_key="schema-retry",
        )
    except Exception as exc:
        failed = job.fail(
            ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message=f"{why}; retry failed: {error_from(exc).message}")
        )
        return failed.evolve(attempt_log=job.attempt_log + tuple(attempts_of(exc)))
    retried = apply_outcome(job, outcome)
    parsed, why_again = check_output(retried.output or "", schema)
    if why_again is not None:
        return retried.fail(ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message=f"after one retry: {why_again}"))
    return retried.evolve(parsed=parsed)
