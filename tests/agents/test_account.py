"""Accounting: what a settled request costs, and the result and usage event built from it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from agents.account import NO_CHARGE, SKIPPED_OUTCOMES, Charge, build_outputs, charge_of, provider_attempts
from gateway.price_source import SOURCE
from gateway.settings import load_settings
from gateway.token_counts import KINDS, TokenCounts
from gateway.tokens import count_chat, count_text
from schemas.codes import ErrorCode
from schemas.result import Attempt, ErrorInfo
from tests.support.factories import make_request, make_settlement

SETTINGS = load_settings()
SECRET_PROMPT = "the launch code is 0000"
SECRET_OUTPUT = "noted: 0000"


def charged(input_tokens: int, output_tokens: int, usd: float) -> Charge:
    return Charge(TokenCounts(input_tokens=input_tokens, output_tokens=output_tokens), usd, usd)


def attempt(outcome: str, provider: str = "openai", model: str = "gpt-4o-mini") -> Attempt:
    return Attempt(provider=provider, model=model, outcome=outcome, latency_ms=10.0)


# --- charge_of --------------------------------------------------------------------------------------------------


def test_the_providers_token_counts_are_charged_at_the_models_price() -> None:
    charge = charge_of(make_settlement(input_tokens=1_000, output_tokens=500), SETTINGS)
    # gpt-4o-mini: $0.15 in, $0.60 out per Mtok.
    assert (charge.input_tokens, charge.output_tokens) == (1_000, 500)
    assert charge.usd == pytest.approx(0.00015 + 0.0003, abs=1e-12)


def test_missing_provider_counts_are_counted_with_tiktoken() -> None:
    request = make_request("hello world", system="be brief")
    charge = charge_of(make_settlement(request, output="hello world", model="gpt-4o"), SETTINGS)
    assert charge.input_tokens == count_chat([{"content": "hello world"}], "be brief") == 13
    assert charge.output_tokens == count_text("hello world") == 2
    assert charge.usd == pytest.approx((13 * 2.50 + 2 * 10.00) / 1e6, abs=1e-12)


def test_one_missing_count_is_filled_in_and_the_other_kept() -> None:
    charge = charge_of(make_settlement(input_tokens=77, output="hello world"), SETTINGS)
    assert (charge.input_tokens, charge.output_tokens) == (77, 2)


def test_a_cache_hit_counts_tokens_costs_nothing_and_saves_what_it_would_have_cost() -> None:
    charge = charge_of(make_settlement(input_tokens=100, output_tokens=50, cached=True), SETTINGS)
    # gpt-4o-mini: 100 x $0.15 + 50 x $0.60 per Mtok = $0.000045 saved.
    assert charge == Charge(TokenCounts(100, output_tokens=50), 0.0, 0.0, saved_usd=0.000045, price_source=SOURCE)


def test_the_usage_event_of_a_hit_carries_its_kind_and_saving() -> None:
    settlement = make_settlement(input_tokens=100, output_tokens=50, cached=True).model_copy(
        update={"cache_hit": "semantic", "cache_similarity": 0.93}
    )
    result, usage = build_outputs(settlement, charge_of(settlement, SETTINGS), now_ms=10**13)
    assert (result.cached, result.cache_hit, result.cache_similarity, result.cost_usd) == (True, "semantic", 0.93, 0.0)
    assert (usage.cache_hit, usage.cost_usd) == ("semantic", 0.0) and usage.saved_usd > 0


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "error", "error": ErrorInfo(code=ErrorCode.ALL_PROVIDERS_FAILED, message="x"), "output": None},
        {"status": "rejected", "error": ErrorInfo(code=ErrorCode.RATE_LIMITED, message="x"), "output": None},
        {"output": None},
        {"model": None},
        {"status": "error", "error": ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message="x"), "cached": True},
    ],
    ids=["error", "rejected", "no-output", "no-model", "cached-invalid"],
)
def test_a_request_without_a_paid_answer_costs_nothing(fields: dict[str, Any]) -> None:
    tokens = {} if fields.get("status") == "error" and not fields.get("cached") else {"input_tokens": 100}
    assert charge_of(make_settlement(output_tokens=None, **tokens, **fields), SETTINGS) == NO_CHARGE


@pytest.mark.parametrize(
    "error",
    [
        ErrorInfo(code=ErrorCode.OUTPUT_INVALID, message="after one retry: output is not JSON"),
        ErrorInfo(code=ErrorCode.GUARDRAIL_BLOCKED, message="the answer holds PII"),
    ],
    ids=["output-invalid", "output-guard-block"],
)
def test_an_error_raised_after_the_provider_answered_is_charged_what_the_provider_was_paid(error: ErrorInfo) -> None:
    answered = make_settlement(input_tokens=1_000, output_tokens=400)
    failed = make_settlement(input_tokens=1_000, output_tokens=400, status="error", error=error, output=None)
    charge = charge_of(failed, SETTINGS)
    assert charge.usd is not None and charge.usd > 0 and charge == charge_of(answered, SETTINGS)


def test_a_model_without_a_price_costs_null_and_budgets_charge_the_configured_rate() -> None:
    charge = charge_of(make_settlement(model="retired-model", input_tokens=10, output_tokens=5), SETTINGS)
    # Never a silent 0: cost unknown, budgets charged 15 tokens x $75 per Mtok (the default unknown-price rate).
    assert charge == Charge(TokenCounts(10, output_tokens=5), None, 0.001125)


# --- build_outputs ----------------------------------------------------------------------------------------------


def test_attempts_exclude_skipped_links() -> None:
    log = [attempt("provider_timeout"), attempt("circuit_open"), attempt("local_rate_limit"), attempt("ok")]
    assert {"circuit_open", "local_rate_limit"} == SKIPPED_OUTCOMES
    assert provider_attempts(make_settlement(attempt_log=log)) == 2


def test_the_result_carries_the_answer_charge_metadata_and_latency() -> None:
    request = make_request(SECRET_PROMPT, metadata={"trace": "abc", "n": 3}, task="chat")
    log = [attempt("provider_unavailable"), attempt("circuit_open"), attempt("ok")]
    settlement = make_settlement(request, received_ms=10_000, output=SECRET_OUTPUT, parsed=None, attempt_log=log)
    charge = charged(20, 4, 0.0000054)
    result, _ = build_outputs(settlement, charge, now_ms=10_250)
    assert result.id == request.id and result.status == "ok" and result.output == SECRET_OUTPUT
    assert (result.model, result.provider, result.cached, result.error) == ("gpt-4o-mini", "openai", False, None)
    assert (result.usage.input_tokens, result.usage.output_tokens, result.cost_usd) == (20, 4, 0.0000054)
    assert result.latency_ms == 250.0 and result.attempts == 2 and result.attempt_log == log
    assert result.metadata == {"trace": "abc", "n": 3}


def test_the_usage_event_never_carries_prompt_or_output_text() -> None:
    request = make_request(SECRET_PROMPT, system="system secret", metadata={"note": "meta secret"}, task="chat")
    settlement = make_settlement(request, output=SECRET_OUTPUT, parsed={"code": "0000"}, attempt_log=[attempt("ok")])
    _, usage = build_outputs(settlement, charged(20, 4, 0.0000054), now_ms=5_000)
    dumped = usage.model_dump_json()
    for secret in ("0000", "launch", "system secret", "meta secret"):
        assert secret not in dumped
    assert (usage.request_id, usage.tenant, usage.user, usage.task) == (request.id, "acme", "alice", "chat")
    assert (usage.input_tokens, usage.output_tokens, usage.cost_usd) == (20, 4, 0.0000054)
    assert (usage.status, usage.error_code, usage.attempts, usage.ts_ms, usage.latency_ms) == (
        "ok",
        None,
        1,
        5_000,
        4_000.0,
    )


def test_a_failed_request_reports_its_error_code_in_both_outputs() -> None:
    error = ErrorInfo(code=ErrorCode.ALL_PROVIDERS_FAILED, message="all down")
    settlement = make_settlement(status="error", output=None, model=None, provider=None, error=error)
    result, usage = build_outputs(settlement, NO_CHARGE, now_ms=2_000)
    assert result.status == "error" and result.error == error and result.output is None
    assert usage.status == "error" and usage.error_code == ErrorCode.ALL_PROVIDERS_FAILED and usage.model is None


def test_latency_is_never_negative_when_clocks_disagree() -> None:
    result, usage = build_outputs(make_settlement(received_ms=9_000), NO_CHARGE, now_ms=8_000)
    assert result.latency_ms == 0.0 and usage.latency_ms == 0.0


def test_an_unpriced_answer_has_a_null_cost_and_says_so_in_both_outputs() -> None:
    settlement = make_settlement(model="retired-model", input_tokens=10, output_tokens=5)
    result, usage = build_outputs(settlement, charge_of(settlement, SETTINGS), now_ms=2_000)
    assert usage.cost_usd is None and usage.price_known is False and usage.price_source is None
    assert result.cost_usd is None and result.price_known is False
    assert '"cost_usd":null' in usage.model_dump_json()


def test_the_token_split_reaches_the_result_and_the_usage_event() -> None:
    counts = {"input_tokens": 1000, "cached_input_tokens": 400, "output_tokens": 300, "reasoning_tokens": 200}
    settlement = make_settlement(**counts)
    result, usage = build_outputs(settlement, charge_of(settlement, SETTINGS), now_ms=2_000)
    assert result.usage.model_dump() == {**counts, "cache_write_tokens": 0}
    assert {k: getattr(usage, k) for k in counts} == counts and usage.price_source == SOURCE
    # 600 x 0.15 + 400 x 0.075 + 300 x 0.60 = 300 micro-USD (reasoning is inside output, not billed twice).
    assert usage.cost_usd == result.cost_usd == pytest.approx(0.0003, abs=1e-12)


def test_provider_counts_beyond_the_totals_are_capped() -> None:
    settlement = make_settlement(input_tokens=10, cached_input_tokens=50, output_tokens=5, reasoning_tokens=9)
    charge = charge_of(settlement, SETTINGS)
    assert (charge.counts.cached_input_tokens, charge.counts.reasoning_tokens) == (10, 5)


def test_the_token_kinds_are_the_counts_fields_in_order() -> None:
    """``as_fields`` (what results and usage events carry) walks ``KINDS``: it must name every count."""
    assert tuple(f.name for f in dataclasses.fields(TokenCounts)) == KINDS
    counts = TokenCounts(1, 2, 3, 4, 5)
    assert counts.as_fields() == dataclasses.asdict(counts)
