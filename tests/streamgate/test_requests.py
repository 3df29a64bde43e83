"""Building the published request from what a caller passes to the SDK."""

from __future__ import annotations

import pytest

from schemas.request import ChatMessage, LLMRequest
from streamgate.errors import InvalidClientRequest
from streamgate.requests import build_request

COMMON = {"tenant": "acme", "user": "alice", "reply_to": "llm.results.client-1", "deadline_ms": 1_800_000_000_000}


def test_a_text_becomes_one_user_turn_with_the_client_s_reply_topic_and_deadline() -> None:
    request = build_request("Hello", fields={"model": "fast"}, **COMMON)  # type: ignore[arg-type]
    assert request.messages == [ChatMessage(role="user", content="Hello")]
    assert (request.tenant, request.user, request.model) == ("acme", "alice", "fast")
    assert request.reply_to == "llm.results.client-1" and request.deadline_ms == 1_800_000_000_000
    assert request.id.startswith("sdk-")


def test_a_whole_request_keeps_its_fields_but_always_answers_on_the_client_s_topic() -> None:
    mine = LLMRequest(
        id="r1",
        tenant="globex",
        user="bob",
        messages=[ChatMessage(role="user", content="x")],
        reply_to="llm.results.elsewhere",
        deadline_ms=5,
    )
    request = build_request(mine, fields={}, **COMMON)  # type: ignore[arg-type]
    assert (request.id, request.tenant, request.deadline_ms) == ("r1", "globex", 5)
    assert request.reply_to == "llm.results.client-1"


def test_fields_that_make_no_valid_request_raise_before_anything_is_published() -> None:
    with pytest.raises(InvalidClientRequest, match="max_tokens"):
        build_request("Hello", fields={"max_tokens": 0}, **COMMON)  # type: ignore[arg-type]
    with pytest.raises(InvalidClientRequest, match="tenant"):
        build_request("Hello", fields={}, **{**COMMON, "tenant": None})  # type: ignore[arg-type]
