"""The reservation of a request covers every call it can make: the schema retry of a ``response_format`` request."""

from __future__ import annotations

from agents.account import charge_of
from agents.reserve import plan_estimate
from agents.validate import MAX_REASON_CHARS, corrective_turn
from gateway.context_window import prompt_tokens
from gateway.settings import load_settings
from tests.support.factories import make_request, make_settlement, plan_for

SETTINGS = load_settings()
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_a_schema_request_reserves_its_retry_and_the_worst_retry_fits_in_it() -> None:
    request = make_request("Answer in JSON: where is the Eiffel tower?", response_format=SCHEMA, max_tokens=300)
    plan = plan_for(request, SETTINGS)
    reserved = plan_estimate(request, plan, SETTINGS)
    plain = plan_estimate(request.model_copy(update={"response_format": None}), plan, SETTINGS)
    assert reserved.max_output_tokens == 2 * plain.max_output_tokens
    # The worst retry: a rejected answer of max_tokens tokens, and a reason quoting it in multi-byte characters.
    rejected = " ok" * request.max_tokens
    extra = corrective_turn(rejected, "output is not JSON: " + "\u00e9\u4e2d" * 5_000)
    assert len(extra[1].content) < MAX_REASON_CHARS + 200  # the reason was cut
    for link in plan.first.chain:
        spec = SETTINGS.models[link.model]
        first = prompt_tokens(spec, request.messages, request.system)
        retry = prompt_tokens(spec, [*request.messages, *extra], request.system)
        paid = make_settlement(
            request, model=link.model, provider=link.provider, input_tokens=first + retry,
            output_tokens=2 * request.max_tokens, status="error", output=None,
        )  # fmt: skip
        assert charge_of(paid, SETTINGS).budget_usd <= reserved.worst_case_usd
        assert first + retry <= reserved.input_tokens


def test_a_request_without_a_schema_reserves_one_call_per_step() -> None:
    request = make_request("Where is the Eiffel tower?", max_tokens=300)
    estimate = plan_estimate(request, plan_for(request, SETTINGS), SETTINGS)
    assert estimate.max_output_tokens == 300
