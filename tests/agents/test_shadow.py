"""Replay pieces without Kafka: shadow copies of requests, serving them in-process, and the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.replay_report import answer_changed, compare
from agents.shadow import Variant, serve_shadow, shadow_id, shadow_request
from gateway.errors import StreamgateError
from gateway.prompts.registry import PromptRegistry
from gateway.settings import load_settings
from schemas.request import LLMRequest
from schemas.result import LLMResult
from streams.cli.replay import parse_time, window_of, with_dev_simulator
from tests.support.completers import ScriptedCompleter, outcome
from tests.support.factories import make_request


def test_a_shadow_copy_gets_a_new_id_the_variant_and_the_shadow_topic() -> None:
    recorded = make_request(
        "hi", reply_to="orders.results", deadline_ms=1, prompt={"name": "summarise", "version": "2"}, task="chat"
    )
    shadow = shadow_request(recorded, "run1", Variant(prompt_version="3", model="gpt-4o", task="extract"), "shadow.t")
    assert shadow.id == f"shadow.run1.{recorded.id}" and shadow.reply_to == "shadow.t"
    assert shadow.model == "gpt-4o" and shadow.task == "extract" and shadow.prompt is not None
    assert shadow.prompt.version == "3" and shadow.deadline_ms is None and shadow.cache.mode == "bypass"
    assert (shadow.tenant, shadow.user, shadow.messages) == (recorded.tenant, recorded.user, recorded.messages)
    LLMRequest.model_validate(shadow.model_dump())  # still a valid request


def test_shadow_ids_stay_valid_for_long_ids() -> None:
    long_id = "x" * 128
    made = shadow_id("abcd1234", long_id)
    assert len(made) <= 128 and made.startswith("shadow.abcd1234.")
    assert made == shadow_id("abcd1234", long_id) != shadow_id("abcd1234", "y" * 128)


async def test_serving_a_shadow_request_charges_it_and_touches_nothing_else() -> None:
    settings = load_settings()
    request = shadow_request(make_request("hi"), "r", Variant(), "shadow.t")
    completer = ScriptedCompleter([outcome("hello", input_tokens=10, output_tokens=5)])
    result, usage = await serve_shadow(request, settings, PromptRegistry({}, {}), (), completer, max_request_s=5)
    assert result.id == request.id and result.status == "ok" and result.output == "hello"
    assert result.cost_usd == usage.cost_usd > 0 and usage.request_id == request.id
    assert [c.request.id for c in completer.calls] == [request.id]


async def test_a_shadow_request_that_cannot_be_routed_is_rejected_without_a_call() -> None:
    settings = load_settings()
    request = shadow_request(make_request("hi"), "r", Variant(model="gpt-17"), "shadow.t")
    completer = ScriptedCompleter([])
    result, _ = await serve_shadow(request, settings, PromptRegistry({}, {}), (), completer, max_request_s=5)
    assert result.status == "rejected" and result.error is not None and completer.calls == []


def result(output: str, *, status: str = "ok", cost: float = 0.001, latency: float = 100.0) -> LLMResult:
    return LLMResult.model_validate(
        {"id": "x", "status": status, "output": output, "cost_usd": cost, "latency_ms": latency}
    )


def test_the_comparison_counts_costs_passes_latency_and_changes() -> None:
    pairs = [
        (result("a", cost=0.001, latency=100), result("a", cost=0.003, latency=50)),
        (result("b", cost=0.001, latency=300), result("B", cost=0.003, latency=70)),
        (result("c", status="error"), result("c", cost=0.002)),
        (None, result("d")),
    ]
    comparison = compare(pairs)
    assert comparison.recorded.requests == comparison.shadow.requests == 3 and comparison.unmatched == 1
    assert comparison.recorded.cost_usd == pytest.approx(0.003) and comparison.shadow.cost_usd == pytest.approx(0.008)
    assert comparison.recorded.pass_rate == pytest.approx(2 / 3) and comparison.shadow.pass_rate == 1.0
    assert comparison.recorded.latency_p50_ms == 100 and comparison.shadow.latency_p50_ms == 70
    assert comparison.changed == 2
    printed = comparison.render()
    assert "answers changed: 2 of 3" in printed and "0.008000" in printed and "66.7%" in printed


def test_parsed_answers_are_compared_by_value() -> None:
    left = LLMResult.model_validate({"id": "x", "status": "ok", "output": '{"a": 1}', "parsed": {"a": 1}})
    right = LLMResult.model_validate({"id": "x", "status": "ok", "output": '{"a":1}', "parsed": {"a": 1}})
    assert not answer_changed(left, right)


def test_replay_windows() -> None:
    assert window_of("15m", None, None, 1_000_000_000).from_ms == 1_000_000_000 - 900_000
    window = window_of(None, "2026-12-01T00:00:00Z", "1796083260000", 0)
    assert (window.from_ms, window.to_ms) == (1_796_083_200_000, 1_796_083_260_000)
    assert parse_time("2026-12-01T00:00:00") == parse_time("2026-12-01T00:00:00+00:00")  # no zone: UTC
    for since, start in (("5 minutes", None), (None, None), (None, "yesterday"), (None, "1796083260001")):
        with pytest.raises(StreamgateError):
            window_of(since, start, "1796083260000", 0)


def test_replay_points_only_unconfigured_providers_at_the_dev_simulator(tmp_path: Path) -> None:
    state = tmp_path / "dev.json"
    state.write_text(json.dumps({"simulator": "http://127.0.0.1:9999"}))
    settings = load_settings(openai_api_key="sk-real")
    pointed = with_dev_simulator(settings, state)
    assert pointed.openai_base_url is None and pointed.openai_api_key is not None
    assert pointed.openai_api_key.get_secret_value() == "sk-real"
    assert pointed.anthropic_base_url == "http://127.0.0.1:9999"
    assert pointed.anthropic_api_key is not None and pointed.anthropic_api_key.get_secret_value() == "simulator"
    assert with_dev_simulator(settings, tmp_path / "absent.json") is settings
