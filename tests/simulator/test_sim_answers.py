"""Deterministic text and JSON-schema instances (pure functions, no server)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from gateway.simulator.answers import answer_text, prompt_seed, violating_instance
from gateway.simulator.schema_instance import json_instance
from gateway.tokens import count_text

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "integer", "minimum": 5, "maximum": 5},
    {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3},
    {"type": "integer", "minimum": 100, "multipleOf": 7},
    {"type": "number", "minimum": -1.5, "maximum": -1.0},
    {"type": "number", "exclusiveMaximum": 0},
    {"type": "boolean"},
    {"type": "null"},
    {"type": ["null", "integer"]},
    {"enum": ["a", 1, None]},
    {"const": {"fixed": [1, 2]}},
    {"type": "string", "minLength": 40, "maxLength": 45},
    {"type": "string", "maxLength": 3},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "uuid"},
    {"type": "string", "format": "uri"},
    {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
    {"type": "array", "items": {"type": "string"}, "maxItems": 1},
    {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 3},
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}], "minItems": 2},
    {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    {"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"required": ["b"]}]},
    {"type": "object", "required": ["implied"]},
    {"type": "object", "additionalProperties": False, "properties": {"x": {"type": "object"}}},
    {"properties": {"inferred": {"type": "boolean"}}},
    {
        "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}, "required": []}},
        "$ref": "#/$defs/node",
    },
    {
        "definitions": {
            "tree": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/definitions/tree"}}},
                "required": ["kids"],
            }
        },
        "$ref": "#/definitions/tree",
    },
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: str(s)[:40])
def test_instances_are_valid_and_deterministic(schema: dict[str, Any]) -> None:
    checker = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for seed in range(5):
        value = json_instance(schema, seed)
        checker.validate(value)
        assert json_instance(schema, seed) == value


def test_violating_instance_breaks_the_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    value = violating_instance(schema, 1)
    assert value is not None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, schema)
    typed = {"type": "object", "properties": {"n": {"type": "integer"}}}
    bad = violating_instance(typed, 1)
    assert bad is not None and bad["n"] == "not-a-integer"
    assert violating_instance({"type": "object"}, 1) is None


def test_prompt_seed_is_stable_and_sensitive() -> None:
    messages = [{"role": "user", "content": "hello"}]
    assert prompt_seed("m", messages) == prompt_seed("m", [{"content": "hello", "role": "user"}])
    assert prompt_seed("m", messages) != prompt_seed("m2", messages)
    assert prompt_seed("m", messages) != prompt_seed("m", messages, "system")
    assert 0 <= prompt_seed("m", messages) < 2**64


@pytest.mark.parametrize("max_tokens", [1, 2, 5, 12, 1000])
def test_answer_text_is_bounded_by_max_tokens(max_tokens: int) -> None:
    for seed in range(20):
        answer = answer_text(seed, max_tokens)
        assert answer.text
        tokens = count_text(answer.text)
        assert tokens <= max_tokens or len(answer.text.split()) == 1
        assert answer.truncated == (answer.text != answer_text(seed, 10_000).text)
        assert answer_text(seed, 10_000).text.endswith(".")
