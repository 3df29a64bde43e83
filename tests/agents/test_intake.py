"""parse_request: one valid request, or an InvalidEvent saying precisely why (and whom to answer)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from agents.intake import InvalidEvent, check_bounds, nested_deeper_than, parse_request
from gateway.settings import GuardSettings
from schemas.codes import ErrorCode

VALID: dict[str, Any] = {
    "v": 1,
    "id": "req-1",
    "tenant": "acme",
    "user": "alice",
    "messages": [{"role": "user", "content": "hi"}],
    "reply_to": "team.results",
}


def invalid(raw: bytes | None) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        parse_request(raw)
    return caught.value


def test_a_valid_request_is_returned_with_its_fields_and_defaults() -> None:
    request = parse_request(orjson.dumps({**VALID, "metadata": {"n": 1}}))
    assert (request.id, request.tenant, request.user, request.reply_to) == ("req-1", "acme", "alice", "team.results")
    assert request.messages[0].content == "hi" and request.metadata == {"n": 1}
    assert request.max_tokens == 512 and request.cache.mode == "default" and request.model is None


@pytest.mark.parametrize("raw", [None, b""])
def test_an_empty_event_is_invalid(raw: bytes | None) -> None:
    bad = invalid(raw)
    assert bad.reason == "empty" and bad.request_id is None and bad.reply_to is None


@pytest.mark.parametrize("raw", [b"\xff not json", b"{", b'{"id": "x",}'])
def test_a_non_json_event_is_invalid(raw: bytes) -> None:
    bad = invalid(raw)
    assert bad.reason == "not_json" and bad.detail.startswith("value is not JSON")


@pytest.mark.parametrize(
    ("raw", "kind"), [(b"[1, 2]", "list"), (b'"req-1"', "str"), (b"42", "int"), (b"null", "NoneType")]
)
def test_a_json_value_that_is_not_an_object_is_invalid(raw: bytes, kind: str) -> None:
    bad = invalid(raw)
    assert bad.reason == "not_object" and kind in bad.detail and bad.request_id is None


def test_a_schema_error_names_the_field_and_keeps_a_valid_id_and_reply_to() -> None:
    bad = invalid(orjson.dumps({k: v for k, v in VALID.items() if k != "messages"}))
    assert bad.reason == "schema" and "messages" in bad.detail
    assert bad.request_id == "req-1" and bad.reply_to == "team.results"


@pytest.mark.parametrize(
    "bad_id",
    ["", "-starts-with-dash", "has space", "x" * 129, 123, None, "req-1\n"],
)
def test_an_unusable_id_is_not_extracted(bad_id: object) -> None:
    bad = invalid(orjson.dumps({**VALID, "id": bad_id, "messages": []}))
    assert bad.reason == "schema" and bad.request_id is None
    assert bad.reply_to == "team.results"


@pytest.mark.parametrize("bad_topic", ["", "has/slash", "t" * 250, 7, "llm.results\n"])
def test_an_unusable_reply_to_is_not_extracted(bad_topic: object) -> None:
    bad = invalid(orjson.dumps({**VALID, "reply_to": bad_topic, "messages": []}))
    assert bad.reason == "schema" and bad.reply_to is None
    assert bad.request_id == "req-1"


def test_an_id_is_extracted_only_when_the_schema_would_accept_it() -> None:
    # The id is fine; only the unknown field is wrong, so the client can still be told.
    bad = invalid(orjson.dumps({**VALID, "surprise": True}))
    assert bad.request_id == "req-1" and "surprise" in bad.detail


def test_many_schema_errors_are_summarised() -> None:
    doc = {"id": "req-2", "tenant": "", "user": "", "messages": [], "max_tokens": 0, "temperature": 9, "task": "t" * 99}
    doc["reply_to"] = "not a topic!"  # an empty `messages` alone is no field error now (`prompt` may stand in)
    bad = invalid(orjson.dumps(doc))
    assert bad.detail.count(";") >= 5 and bad.detail.endswith("more")


def refused_bounds(raw: bytes, limits: GuardSettings) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        check_bounds(parse_request(raw), len(raw), limits)
    return caught.value


def test_metadata_over_its_bound_is_refused_as_payload_too_large_naming_whom_to_answer() -> None:
    raw = orjson.dumps({**VALID, "metadata": {"blob": "m" * 200}})
    bad = refused_bounds(raw, GuardSettings(max_metadata_bytes=100))
    assert bad.reason == "too_large" and bad.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert bad.limit == "intake.max_metadata_bytes"
    assert (bad.request_id, bad.reply_to) == ("req-1", "team.results")


def test_an_event_over_max_request_bytes_is_refused_at_intake() -> None:
    raw = orjson.dumps({**VALID, "metadata": {"blob": "m" * 200}})
    bad = refused_bounds(raw, GuardSettings(max_request_bytes=len(raw) - 1))
    assert bad.code is ErrorCode.PAYLOAD_TOO_LARGE and bad.limit == "intake.max_request_bytes"


def test_a_request_within_the_bounds_passes() -> None:
    raw = orjson.dumps({**VALID, "metadata": {"blob": "m" * 50}})
    check_bounds(parse_request(raw), len(raw), GuardSettings(max_metadata_bytes=100))


def test_a_document_nested_deeper_than_the_limit_is_refused_before_validation_and_still_answered() -> None:
    raw = orjson.dumps({**VALID, "metadata": {"a": [[[[1]]]]}})  # depth 6: root, metadata, a, three lists
    assert parse_request(raw, max_depth=6).metadata == {"a": [[[[1]]]]}
    with pytest.raises(InvalidEvent) as caught:
        parse_request(raw, max_depth=5)
    bad = caught.value
    assert (bad.reason, bad.code, bad.limit) == ("too_large", ErrorCode.PAYLOAD_TOO_LARGE, "intake.max_json_depth")
    assert bad.request_id == "req-1" and bad.reply_to == "team.results"


def test_nesting_far_beyond_the_interpreter_stack_is_measured_without_recursion() -> None:
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    assert nested_deeper_than({"m": deep}, 64)
    assert not nested_deeper_than({"m": [1, {"x": 2}]}, 3)
