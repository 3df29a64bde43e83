"""The batch lane's decisions, without Kafka or Redis: who parks, what is kept, what a batch outcome becomes."""

from __future__ import annotations

import pytest

from agents import batch_lane
from agents.account import charge_of
from agents.job import RoutePlan
from agents.reserve import plan_estimate
from agents.route import choose_route
from gateway.batch.clients import ItemResult
from gateway.batch.records import custom_id_for
from gateway.pricing import cost_usd, price_of
from gateway.providers.base import Completion
from gateway.settings import load_settings
from gateway.token_counts import TokenCounts
from schemas.codes import ErrorCode
from schemas.result import GuardVerdict
from tests.support.factories import make_job, make_request, make_settlement

SETTINGS = load_settings(batch={"min_deadline_s": 60, "fallback_min_s": 5})
NOW = 1_800_000_000_000


def routed(**fields: object):  # type: ignore[no-untyped-def]
    request = make_request("Summarise this", lane="batch", **fields)
    plan = choose_route(request, SETTINGS)
    assert isinstance(plan, RoutePlan)
    return make_job(request, plan=plan, route=plan.first, guards=(GuardVerdict(guard="pii", action="pass"),))


def test_a_batch_request_on_a_one_step_route_parks() -> None:
    assert batch_lane.should_park(routed(), SETTINGS, NOW)
    assert batch_lane.should_park(routed(model="claude-3-5-haiku"), SETTINGS, NOW)


@pytest.mark.parametrize(
    ("why", "job"),
    [
        ("interactive", lambda: routed().evolve(request=make_request("x"))),
        ("deadline too near", lambda: routed(deadline_ms=NOW + 30_000)),
        ("a duplicate publish: answered from the completion store", lambda: routed().evolve(reemit=True)),
        ("pii_restore values must not leave the worker", lambda: routed().evolve(restore=(("<E_1>", "a@b.c"),))),
        ("back from a failed batch job", lambda: routed().evolve(batch_job_id="sgb_1")),
        ("streamed", lambda: routed(stream=True)),
        ("already answered (cache hit)", lambda: routed().evolve(status="ok", cached=True)),
    ],
)
def test_what_does_not_park(why: str, job) -> None:  # type: ignore[no-untyped-def]
    assert not batch_lane.should_park(job(), SETTINGS, NOW), why


def test_the_lane_can_be_switched_off() -> None:
    off = load_settings(batch={"enabled": False})
    job = routed()
    assert not batch_lane.should_park(job, off, NOW)
    assert job.plan is not None and batch_lane.first_lane(job.request, job.plan, off) == "interactive"


def test_a_cascade_goes_interactive() -> None:
    settings = load_settings(routing={"tasks": {"extract": {"cascade": ["gpt-4o-mini", "gpt-4o"]}}})
    request = make_request("Extract", lane="batch", task="extract")
    plan = choose_route(request, settings)
    assert isinstance(plan, RoutePlan) and plan.is_cascade
    assert batch_lane.first_lane(request, plan, settings) == "interactive"


def test_the_reservation_covers_a_fallback_to_the_interactive_lane_in_full() -> None:
    batch = routed(max_tokens=500)
    assert batch.plan is not None
    interactive = make_request("Summarise this", id=batch.request.id, max_tokens=500)
    reserved = plan_estimate(batch.request, batch.plan, SETTINGS)
    assert reserved.worst_case_usd == plan_estimate(interactive, batch.plan, SETTINGS).worst_case_usd
    # The batch expires and the request is answered interactively, with every token it reserved: charged in full.
    fallback = make_settlement(
        batch.request, input_tokens=reserved.input_tokens, output_tokens=500, lane="interactive", batch_job_id="sgb_1"
    )
    assert charge_of(fallback, SETTINGS).budget_usd <= reserved.worst_case_usd
    answered_by_batch = make_settlement(
        batch.request, input_tokens=reserved.input_tokens, output_tokens=500, lane="batch", batch_job_id="sgb_1"
    )
    assert charge_of(answered_by_batch, SETTINGS).budget_usd < reserved.worst_case_usd / 1.9  # the batch price


def test_an_entry_keeps_the_call_and_rebuilds_the_same_job() -> None:
    job = routed(system="be brief", max_tokens=99, stop=["\n\n"])
    entry = batch_lane.entry_for(job, SETTINGS, NOW)
    assert (entry.provider, entry.model, entry.member) == (
        "openai",
        "gpt-4o-mini",
        f"{job.request.tenant}|{job.request.id}",
    )
    assert entry.custom_id == custom_id_for(entry.member)
    call = batch_lane.call_of(entry)
    assert (call.model, call.system, call.max_tokens, call.stop) == ("gpt-4o-mini", "be brief", 99, ("\n\n",))
    back = batch_lane.job_from(entry, "sgb_7", source="src")
    assert (back.request, back.route, back.guards, back.batch_job_id) == (job.request, job.route, job.guards, "sgb_7")
    assert back.source == "src" and not back.finished


def test_custom_ids_are_the_request_id_or_a_digest_anthropic_accepts() -> None:
    assert custom_id_for("order-1_a") == "order-1_a"
    odd = custom_id_for("tenant:order.1")
    assert odd.startswith("sg-") and len(odd) == 43 and odd == custom_id_for("tenant:order.1")


def test_a_batch_answer_is_ok_in_the_batch_lane_with_one_attempt() -> None:
    job = batch_lane.job_from(batch_lane.entry_for(routed(), SETTINGS, NOW), "sgb_1")
    completion = Completion(provider="openai", model="gpt-4o-mini", text="Done.", input_tokens=9, output_tokens=2)
    done = batch_lane.answered(job, completion, 1234.0)
    assert (done.status, done.lane, done.output, done.input_tokens, done.batch_job_id) == (
        "ok", "batch", "Done.", 9, "sgb_1")  # fmt: skip
    assert [a.outcome for a in done.attempt_log] == ["ok"]


def test_a_failed_request_falls_back_while_its_deadline_allows_else_fails_with_a_stable_code() -> None:
    expired = ItemResult("x", failure="expired")
    patient = batch_lane.job_from(batch_lane.entry_for(routed(), SETTINGS, NOW), "sgb_1")
    back = batch_lane.after_failure(patient, expired, SETTINGS, NOW)
    assert not back.finished and back.lane == "interactive" and back.batch_job_id == "sgb_1"
    assert not batch_lane.should_park(back, SETTINGS, NOW)  # it does not park again
    hurried = batch_lane.job_from(batch_lane.entry_for(routed(deadline_ms=NOW + 65_000), SETTINGS, NOW), "sgb_1")
    failed = batch_lane.after_failure(hurried, expired, SETTINGS, NOW + 62_000)
    assert failed.status == "error" and failed.error is not None and failed.error.code is ErrorCode.BATCH_FAILED


def test_a_batch_answer_costs_the_batch_price_and_reports_the_saving() -> None:
    settlement = make_settlement(input_tokens=1_000, output_tokens=500, lane="batch", batch_job_id="sgb_1")
    charge = charge_of(settlement, SETTINGS)
    # gpt-4o-mini: genai-prices lists its batch rates, $0.075 in and $0.30 out per Mtok.
    assert charge.usd == pytest.approx(0.000075 + 0.00015, abs=1e-12)
    assert charge.lane_saved_usd == pytest.approx(0.000225, abs=1e-12)
    assert charge_of(make_settlement(input_tokens=1_000, output_tokens=500), SETTINGS).lane_saved_usd == 0


def test_without_a_batch_price_in_the_source_the_published_half_price_rule_applies() -> None:
    spec = SETTINGS.models["claude-3-5-haiku"]
    full, batch = price_of(spec), price_of(spec, "batch")
    assert full is not None and batch is not None and batch.source.endswith("+batch-50%")
    counts = TokenCounts(input_tokens=2_000, cached_input_tokens=500, output_tokens=300)
    assert cost_usd(batch, counts) == pytest.approx(cost_usd(full, counts) / 2, abs=1e-10)
    negotiated = spec.model_copy(update={"input_usd_per_mtok": 0.5})
    priced = price_of(negotiated, "batch")
    assert priced is not None and priced.input.base == pytest.approx(0.25) and priced.source == "config+batch-50%"
