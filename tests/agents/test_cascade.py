"""The cheap-first cascade: escalation on a bad answer, every step recorded and paid once, the sum charged."""

from __future__ import annotations

from typing import Any

import pytest

from agents.account import charge_of
from agents.cascade import complete_routed, step_key
from agents.job import Job, RoutePlan
from agents.judge import judge_answer
from agents.reserve import plan_estimate
from gateway.completion import CompletionOutcome
from gateway.errors import ProviderUnavailable
from gateway.providers.base import Completion
from gateway.resilience.chain import ChainLink
from gateway.routing.config import OutputCheck
from gateway.settings import load_settings
from schemas.codes import ErrorCode
from schemas.result import Attempt
from tests.support.completers import ScriptedCompleter
from tests.support.factories import make_job, make_request, plan_for

SETTINGS = load_settings(routing={"tasks": {"extract": {"cascade": ["gpt-4o-mini", "gpt-4o"]}}})
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def answer(model: str, text: str, input_tokens: int = 100, output_tokens: int = 20) -> CompletionOutcome:
    link = ChainLink(model=model, provider="openai", upstream=model)
    attempt = Attempt(provider="openai", model=model, outcome="ok", latency_ms=5.0, status=200)
    return CompletionOutcome(Completion("openai", model, text, input_tokens, output_tokens, "stop"), link, (attempt,))


def cascade_job(**fields: Any) -> tuple[Job, RoutePlan]:
    request = make_request("Where is the Eiffel tower?", task="extract", response_format=SCHEMA, **fields)
    plan = plan_for(request, SETTINGS)
    return make_job(request, plan=plan, route=plan.first), plan


async def test_a_schema_invalid_cheap_answer_escalates_and_both_steps_are_recorded_and_charged() -> None:
    job, plan = cascade_job()
    completer = ScriptedCompleter([answer("gpt-4o-mini", "not json"), answer("gpt-4o", '{"city": "Paris"}')])
    done = await complete_routed(job, completer, SETTINGS, max_request_s=30)
    assert done.status == "ok" and done.parsed == {"city": "Paris"} and done.model == "gpt-4o"
    mini = 0.000027  # 100 x $0.15 + 20 x $0.60 per Mtok
    big = 0.00045  # 100 x $2.50 + 20 x $10 per Mtok
    assert [(s.model, s.outcome, s.cost_usd) for s in done.cascade] == [
        ("gpt-4o-mini", "output_invalid", mini),
        ("gpt-4o", "ok", big),
    ]
    # Each step is its own provider call with its own idempotency key, on its own step's route.
    assert [c.attempt_key for c in completer.calls] == ["", "cascade-1"]
    assert [c.route for c in completer.calls] == list(plan.steps)
    charge = charge_of(done.to_settlement(), SETTINGS)
    assert charge.usd == pytest.approx(mini + big) and (charge.input_tokens, charge.output_tokens) == (200, 40)


async def test_a_good_cheap_answer_stops_the_cascade() -> None:
    job, _ = cascade_job()
    completer = ScriptedCompleter([answer("gpt-4o-mini", '{"city": "Paris"}')])
    done = await complete_routed(job, completer, SETTINGS, max_request_s=30)
    assert done.status == "ok" and done.model == "gpt-4o-mini" and len(completer.calls) == 1
    assert [s.outcome for s in done.cascade] == ["ok"]


async def test_when_no_step_is_valid_the_result_is_output_invalid_and_still_charged() -> None:
    job, _ = cascade_job()
    completer = ScriptedCompleter([answer("gpt-4o-mini", "nope"), answer("gpt-4o", "{}")])
    done = await complete_routed(job, completer, SETTINGS, max_request_s=30)
    assert done.status == "error" and done.error is not None and done.error.code is ErrorCode.OUTPUT_INVALID
    assert [s.outcome for s in done.cascade] == ["output_invalid", "output_invalid"]
    assert charge_of(done.to_settlement(), SETTINGS).usd == pytest.approx(sum(s.cost_usd for s in done.cascade))


async def test_a_step_whose_providers_all_fail_escalates_with_its_error_code() -> None:
    job, _ = cascade_job()
    failure = ProviderUnavailable("down", provider="openai", model="gpt-4o-mini", status=503)
    completer = ScriptedCompleter([failure, answer("gpt-4o", '{"city": "Paris"}')])
    done = await complete_routed(job, completer, SETTINGS, max_request_s=30)
    assert done.status == "ok" and [s.outcome for s in done.cascade] == ["provider_unavailable", "ok"]
    assert done.cascade[0].cost_usd == 0.0


async def test_a_one_step_route_is_a_plain_call() -> None:
    request = make_request("hi", model="gpt-4o")
    plan = plan_for(request, SETTINGS)
    completer = ScriptedCompleter([answer("gpt-4o", "hello")])
    job = make_job(request, plan=plan, route=plan.first)
    done = await complete_routed(job, completer, SETTINGS, max_request_s=30)
    assert done.status == "ok" and done.cascade == () and completer.calls[0].attempt_key == ""


def test_the_reservation_is_the_sum_of_every_steps_worst_case() -> None:
    request = make_request("Where is the Eiffel tower?", task="extract", max_tokens=200)
    plan = plan_for(request, SETTINGS)
    single = [plan_estimate(request, RoutePlan(steps=(step,)), SETTINGS) for step in plan.steps]
    both = plan_estimate(request, plan, SETTINGS)
    assert both.worst_case_usd == pytest.approx(sum(e.worst_case_usd for e in single))
    assert both.max_output_tokens == 400 and both.input_tokens == sum(e.input_tokens for e in single)
    # The gpt-4o step's worst case is its dearest link, claude-sonnet-4: the prompt as cache writes ($3.75 per
    # Mtok, its dearest input kind) and 200 output at $15.
    expected = (single[1].input_tokens * 3.75 + 200 * 15.00) / 1e6
    assert single[1].worst_case_usd == pytest.approx(expected, abs=1e-12)


def test_step_keys_are_distinct() -> None:
    assert len({step_key(i) for i in range(5)}) == 5 and step_key(0) == ""


@pytest.mark.parametrize(
    ("text", "schema", "check", "verdict"),
    [
        ("", None, None, "empty"),
        ("   \n", None, None, "empty"),
        ("I'm sorry, but I can't help with that.", None, None, "refusal"),
        ("As an AI, I cannot browse.", None, None, "refusal"),
        ("Sorry for the wait: Paris.", None, None, "ok"),
        ('{"city": 3}', SCHEMA, None, "output_invalid"),
        ("Paris", None, OutputCheck(min_chars=10), "too_short"),
        ("Paris", None, OutputCheck(regex=r"\d{4}"), "check_failed"),
        ("Paris", None, OutputCheck(must_parse="json"), "not_json"),
        ("[1, 2]", None, OutputCheck(must_parse="json", min_chars=3), "ok"),
    ],
)
def test_the_judge(text: str, schema: dict[str, object] | None, check: OutputCheck | None, verdict: str) -> None:
    assert judge_answer(text, schema, check)[0] == verdict
