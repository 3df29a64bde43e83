"""Context fit and trimming: the newest turns stay, and the trimmed prompt fits the window exactly."""

from __future__ import annotations

from typing import Any

import pytest

from agents.job import RoutePlan
from agents.route import choose_route
from gateway.catalog import DEFAULT_MODELS, ModelSpec
from gateway.context_window import drop_oldest_turns, fits, prompt_tokens, turns_to_drop
from gateway.model_tokens import counter_for
from gateway.resilience.config import ResilienceSettings
from gateway.settings import load_settings
from schemas.codes import ErrorCode
from schemas.request import ChatMessage
from schemas.result import ErrorInfo
from tests.support.factories import make_request

SMALL = ModelSpec(provider="openai", upstream="gpt-4o-mini-small", input_usd_per_mtok=0.15,
                  output_usd_per_mtok=0.6, context_window=400, max_output_tokens=100)  # fmt: skip


def history(turns: int) -> list[ChatMessage]:
    """``turns`` alternating user/assistant turns of ~25 tokens each, ending on a user turn."""
    roles = ["user", "assistant"]
    return [
        ChatMessage(role=roles[i % 2] if i < turns - 1 else "user", content=f"turn {i}: " + "lorem ipsum " * 10)
        for i in range(turns)
    ]


def test_trimming_keeps_the_system_and_the_newest_turns_and_fits_exactly() -> None:
    messages = [ChatMessage(role="system", content="Be terse."), *history(30)]
    drop = turns_to_drop(SMALL, messages, "You are a gateway test.", 100)
    assert drop is not None and drop > 0
    trimmed = drop_oldest_turns(messages, drop)
    assert trimmed[0] == messages[0] and trimmed[-1] == messages[-1]
    assert trimmed[1:] == messages[1 + drop :]  # a contiguous run of the newest turns
    used = prompt_tokens(SMALL, trimmed, "You are a gateway test.") + 100
    assert used <= SMALL.context_window
    # Keeping one more (older) turn would not fit: the fewest turns were dropped.
    one_more = drop_oldest_turns(messages, drop - 1)
    assert prompt_tokens(SMALL, one_more, "You are a gateway test.") + 100 > SMALL.context_window
    # Counted by the model's own encoding (o200k for the GPT-4o family).
    counter = counter_for(SMALL)
    assert counter.encoding_name == "o200k_base"
    expected = 3 + counter.message("You are a gateway test.") + sum(counter.message(m.content) for m in trimmed)
    assert prompt_tokens(SMALL, trimmed, "You are a gateway test.") == expected


def test_the_output_room_is_capped_at_the_models_output_limit() -> None:
    messages = history(1)
    assert fits(SMALL, messages, None, 100) and fits(SMALL, messages, None, 10_000)


def test_nothing_to_drop_means_it_cannot_fit() -> None:
    huge = [ChatMessage(role="user", content="word " * 2_000)]
    assert turns_to_drop(SMALL, huge, None, 100) is None


def settings_with_small(**routing: Any) -> Any:
    models = {**DEFAULT_MODELS, "tiny": SMALL}
    return load_settings(
        models=models,
        resilience=ResilienceSettings(fallbacks={"tiny": ["gpt-4o"], "gpt-4o": ["tiny"]}),
        routing={"tasks": routing} if routing else {},
    )


def test_reject_policy_answers_context_too_long_without_trimming() -> None:
    settings = settings_with_small()
    routed = choose_route(make_request(model="tiny", messages=history(30), max_tokens=100), settings)
    assert isinstance(routed, ErrorInfo) and routed.code is ErrorCode.CONTEXT_TOO_LONG


def test_trim_oldest_policy_trims_for_the_model() -> None:
    settings = settings_with_small(chat={"context": "trim_oldest"})
    request = make_request(model="tiny", task="chat", messages=history(30), max_tokens=100)
    routed = choose_route(request, settings)
    assert isinstance(routed, RoutePlan)
    step = routed.first
    assert step.drop_turns == turns_to_drop(SMALL, request.messages, None, 100)
    assert [link.model for link in step.chain] == ["tiny", "gpt-4o"]  # the trimmed prompt fits both


def test_a_fallback_with_a_smaller_window_is_dropped_when_the_prompt_does_not_fit_it() -> None:
    settings = settings_with_small()
    request = make_request(model="gpt-4o", messages=history(30), max_tokens=100)
    routed = choose_route(request, settings)
    assert isinstance(routed, RoutePlan)
    assert [link.model for link in routed.first.chain] == ["gpt-4o"]  # `tiny` (400 tokens) cannot take it


@pytest.mark.parametrize("policy", ["reject", "trim_oldest"])
def test_a_cascade_step_to_a_smaller_window_is_rechecked(policy: str) -> None:
    settings = settings_with_small(extract={"cascade": ["gpt-4o", "tiny"], "context": policy})
    request = make_request(task="extract", messages=history(30), max_tokens=100)
    routed = choose_route(request, settings)
    assert isinstance(routed, RoutePlan)
    if policy == "reject":
        assert routed.models == ("gpt-4o",)  # the tiny step is skipped
    else:
        assert routed.models == ("gpt-4o", "tiny") and routed.steps[1].drop_turns > 0
        assert routed.steps[0].drop_turns == 0


def test_what_turns_to_drop_keeps_fits_and_one_turn_more_does_not_for_any_conversation() -> None:
    """``fit_route`` relies on it: the first link is kept without a second ``fits`` check."""
    for turns in range(1, 31):
        for system in (None, "You are a gateway test."):
            for max_tokens in (1, 60, 100, 500):
                messages = history(turns)
                drop = turns_to_drop(SMALL, messages, system, max_tokens)
                if drop is None:
                    assert not fits(SMALL, drop_oldest_turns(messages, len(messages)), system, max_tokens)
                    continue
                assert fits(SMALL, drop_oldest_turns(messages, drop), system, max_tokens)
                assert drop == 0 or not fits(SMALL, drop_oldest_turns(messages, drop - 1), system, max_tokens)
