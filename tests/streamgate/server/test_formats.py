"""The two wire formats: request bodies to gateway fields, results to answers and SSE events."""

from __future__ import annotations

import orjson
import pytest

from schemas.request import ChatMessage, LLMRequest
from schemas.result import LLMResult, TokenUsage
from streamgate.errors import InvalidClientRequest
from streamgate.server.anthropic_format import AnthropicFormat, MessagesRequest
from streamgate.server.formats import Turn
from streamgate.server.openai_format import ChatCompletionRequest, OpenAIFormat

REQUEST = LLMRequest(
    id="r1", tenant="acme", user="alice", messages=[ChatMessage(role="user", content="hi")], max_tokens=10
)
RESULT = LLMResult(
    id="r1",
    status="ok",
    output="Hello",
    model="gpt-4o-mini",
    usage=TokenUsage(input_tokens=30, cached_input_tokens=10, cache_write_tokens=5, output_tokens=4),
)


def test_an_openai_body_becomes_gateway_fields() -> None:
    body = ChatCompletionRequest.model_validate(
        {
            "model": "fast",
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]},
            ],
            "max_completion_tokens": 20,
            "stop": "END",
            "frequency_penalty": 0.5,
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        }
    )
    fields = OpenAIFormat().request_fields(body)
    assert fields["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    assert (fields["max_tokens"], fields["stop"], fields["response_format"]) == (20, ["END"], {"type": "object"})


@pytest.mark.parametrize(
    "extra",
    [{"tools": [{"type": "function"}]}, {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}],
)
def test_what_the_gateway_cannot_honour_is_refused(extra: dict[str, object]) -> None:
    body = ChatCompletionRequest.model_validate(
        {"model": "fast", "messages": [{"role": "user", "content": "x"}]} | extra
    )
    with pytest.raises(InvalidClientRequest):
        OpenAIFormat().request_fields(body)


def test_an_openai_stream_ends_with_the_stop_chunk_the_usage_chunk_and_done() -> None:
    turn = Turn(REQUEST, "fast", include_usage=True)
    fmt = OpenAIFormat()
    events = [*fmt.stream_start(turn), *fmt.stream_delta(turn, "Hello"), *fmt.stream_end(turn, RESULT)]
    docs = [e.removeprefix(b"data: ").strip() for e in events]
    assert docs[-1] == b"[DONE]"
    usage = orjson.loads(docs[-2])
    assert usage["choices"] == [] and usage["usage"]["prompt_tokens"] == 30
    assert orjson.loads(docs[-3])["choices"][0]["finish_reason"] == "stop"


def test_anthropic_counts_exclude_the_cache_from_input_tokens() -> None:
    body = MessagesRequest.model_validate(
        {
            "model": "claude-3-5-haiku",
            "max_tokens": 10,
            "system": [{"type": "text", "text": "S"}],
            "messages": [{"role": "user", "content": "hi"}],
        }
    )
    assert AnthropicFormat().request_fields(body)["system"] == "S"
    usage = AnthropicFormat().response(Turn(REQUEST, "claude-3-5-haiku"), RESULT)["usage"]
    assert usage == {
        "input_tokens": 15,
        "output_tokens": 4,
        "cache_read_input_tokens": 10,
        "cache_creation_input_tokens": 5,
    }
