"""Worst-case estimate of a request."""

from __future__ import annotations

import math

import pytest

from gateway.catalog import DEFAULT_MODELS
from gateway.limits.estimate import estimate_request
from gateway.tokens import count_chat
from schemas.request import ChatMessage

MESSAGES = [{"role": "user", "content": "Summarise the quarterly report in three bullet points."}]


def test_estimate_uses_count_chat_and_the_most_expensive_model() -> None:
    specs = [DEFAULT_MODELS["gpt-4o-mini"], DEFAULT_MODELS["claude-sonnet-4"], DEFAULT_MODELS["gpt-4o"]]
    est = estimate_request(MESSAGES, "Be brief.", 256, specs)
    expected_input = count_chat(MESSAGES, "Be brief.")
    assert (est.input_tokens, est.max_output_tokens, est.tokens) == (
        expected_input,
        256,
        expected_input + 256,
    )
    # Claude Sonnet 4 is dearest: every prompt token as a cache write ($3.75 per Mtok), 256 out at $15.
    assert est.worst_case_usd == pytest.approx((expected_input * 3.75 + 256 * 15.00) / 1e6, abs=1e-12)


def test_an_unpriced_model_is_reserved_at_the_configured_rate() -> None:
    from gateway.catalog import ModelSpec

    unpriced = ModelSpec(provider="openai", upstream="ft:unpriced", context_window=8_000)
    est = estimate_request(MESSAGES, None, 100, [DEFAULT_MODELS["gpt-4o-mini"], unpriced], unknown_usd_per_mtok=50.0)
    assert est.worst_case_usd == pytest.approx((est.input_tokens + 100) * 50.0 / 1e6, abs=1e-12)


def test_estimate_accepts_chat_message_objects() -> None:
    spec = [DEFAULT_MODELS["gpt-4o-mini"]]
    objects = [ChatMessage(role="user", content=MESSAGES[0]["content"])]
    assert estimate_request(objects, None, 10, spec) == estimate_request(MESSAGES, None, 10, spec)


def test_input_margin_scales_the_input_count_up() -> None:
    spec = [DEFAULT_MODELS["claude-3-5-haiku"]]
    plain = estimate_request(MESSAGES, None, 10, spec)
    padded = estimate_request(MESSAGES, None, 10, spec, input_margin=1.25)
    assert padded.input_tokens == math.ceil(plain.input_tokens * 1.25)
    assert padded.worst_case_usd > plain.worst_case_usd


def test_estimate_rejects_bad_arguments() -> None:
    spec = [DEFAULT_MODELS["gpt-4o-mini"]]
    with pytest.raises(ValueError):
        estimate_request(MESSAGES, None, 10, [])
    with pytest.raises(ValueError):
        estimate_request(MESSAGES, None, -1, spec)
    with pytest.raises(ValueError):
        estimate_request(MESSAGES, None, 10, spec, input_margin=0.5)
