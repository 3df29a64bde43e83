"""The public wire contract: committed JSON Schemas match the models, and the models reject what they should."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.chunk import StreamChunk
from schemas.codes import ErrorCode
from schemas.export import CONTRACT, JSON_DIR, json_schema, render
from schemas.request import LLMRequest
from schemas.result import LLMResult

VALID: dict[str, Any] = {
    "v": 1,
    "id": "req-1",
    "tenant": "acme",
    "user": "alice@example.com",
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_the_committed_schema_equals_the_exported_one(name: str) -> None:
    committed = (JSON_DIR / f"{name}.json").read_text()
    assert committed == render(name), f"schemas/json/{name}.json is stale: run `python -m schemas.export`"


def test_every_committed_schema_belongs_to_the_contract() -> None:
    assert {path.stem for path in JSON_DIR.glob("*.json")} == set(CONTRACT)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_schema_has_a_versioned_id(name: str) -> None:
    schema = json_schema(name)
    assert schema["$id"] == f"https://streamgate.dev/schemas/v1/{name}.json"
    assert json.loads(render(name)) == schema


def test_the_request_schema_forbids_unknown_fields() -> None:
    assert json_schema("request")["additionalProperties"] is False


def test_a_valid_request_is_accepted() -> None:
    assert LLMRequest.model_validate(VALID).user == "alice@example.com"


@pytest.mark.parametrize(
    "change",
    [
        {"surprise": 1},
        {"messages": [{"role": "user", "content": "hi", "name": "x"}]},
        {"cache": {"mode": "default", "forever": True}},
    ],
    ids=["top-level", "in-message", "in-cache-policy"],
)
def test_unknown_fields_are_rejected(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        LLMRequest.model_validate({**VALID, **change})


@pytest.mark.parametrize("bad_id", ["", "-x", ".x", "has space", "a/b", "x" * 129, "ok\n"])
def test_bad_ids_are_rejected(bad_id: str) -> None:
    with pytest.raises(ValidationError, match="id"):
        LLMRequest.model_validate({**VALID, "id": bad_id})


@pytest.mark.parametrize("good_id", ["a", "A9._:-z", "x" * 128])
def test_ids_within_the_pattern_are_accepted(good_id: str) -> None:
    assert LLMRequest.model_validate({**VALID, "id": good_id}).id == good_id


def test_empty_messages_are_rejected() -> None:
    with pytest.raises(ValidationError, match="messages"):
        LLMRequest.model_validate({**VALID, "messages": []})


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"max_tokens": 0},
        {"temperature": 2.5},
        {"messages": [{"role": "tool", "content": "x"}]},
        {"cache": {"ttl_s": 0}},
        {"reply_to": "no spaces allowed"},
    ],
    ids=["version", "max-tokens", "temperature", "role", "ttl", "reply-to"],
)
def test_out_of_range_fields_are_rejected(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        LLMRequest.model_validate({**VALID, **change})


def test_requests_are_immutable() -> None:
    request = LLMRequest.model_validate(VALID)
    with pytest.raises(ValidationError):
        request.id = "other"  # type: ignore[misc]


def test_error_codes_are_unique_lowercase_strings() -> None:
    # __members__ includes aliases: a second name with an existing value would not show up when iterating.
    values = [code.value for code in ErrorCode.__members__.values()]
    assert len(values) == len(set(values)), "two ErrorCode names share a value"
    assert all(isinstance(v, str) and v == v.lower() and v.isidentifier() for v in values)
    assert all(code == code.value for code in ErrorCode)  # StrEnum: compares equal to its wire string


def test_streaming_is_off_unless_asked() -> None:
    assert LLMRequest.model_validate(VALID).stream is False
    assert LLMRequest.model_validate({**VALID, "stream": True}).stream is True


def test_chunks_and_results_are_told_apart_by_type() -> None:
    chunk = StreamChunk(id="req-1", seq=0, delta="Hel")
    assert json.loads(chunk.model_dump_json()) == {
        "v": 1, "id": "req-1", "type": "chunk", "seq": 0, "delta": "Hel", "reset": False
    }  # fmt: skip
    assert json.loads(LLMResult(id="req-1", status="ok").model_dump_json())["type"] == "result"
    assert json_schema("chunk")["properties"]["type"]["const"] == "chunk"
    assert json_schema("result")["properties"]["type"]["const"] == "result"


def test_a_chunk_sequence_number_is_never_negative() -> None:
    with pytest.raises(ValidationError):
        StreamChunk(id="req-1", seq=-1, delta="x")
