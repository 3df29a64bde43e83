"""The size guard's three limits, and building the configured guard chain."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigError
from gateway.settings import GuardSettings, load_settings
from guards.base import GuardInput
from guards.registry import GUARDS, build_guards
from guards.size import SizeGuard
from schemas.codes import ErrorCode
from tests.support.factories import make_request

LIMITS = GuardSettings(max_request_bytes=1_000, max_messages=3, max_prompt_chars=50)
GUARD = SizeGuard(LIMITS)


def subject(*texts: str, raw_size: int = 100, system: str | None = None) -> GuardInput:
    messages = [{"role": "user", "content": t} for t in texts]
    return GuardInput(request=make_request(messages=messages, system=system), raw_size=raw_size)


def test_a_request_within_every_limit_passes() -> None:
    assert GUARD.check(subject("a" * 20, "b" * 20, "c" * 10, raw_size=1_000)).block is None


def test_too_many_bytes_on_the_wire_is_blocked() -> None:
    block = GUARD.check(subject("hi", raw_size=1_001)).block
    assert block is not None and block.rule == "max_request_bytes" and block.code is ErrorCode.PAYLOAD_TOO_LARGE
    assert block.message == "request is 1001 bytes; the limit is 1000"


def test_too_many_messages_is_blocked() -> None:
    block = GUARD.check(subject("a", "b", "c", "d")).block
    assert block is not None and block.rule == "max_messages" and "4 messages" in block.message


def test_the_prompt_limit_counts_the_system_prompt_too() -> None:
    assert GUARD.check(subject("a" * 40, system="s" * 10)).block is None
    block = GUARD.check(subject("a" * 40, system="s" * 11)).block
    assert block is not None and block.rule == "max_prompt_chars" and "51 characters" in block.message


def test_the_first_exceeded_limit_is_reported() -> None:
    block = GUARD.check(subject("a" * 60, "b", "c", "d", raw_size=5_000)).block
    assert block is not None and block.rule == "max_request_bytes"


def test_the_registry_builds_the_enabled_guards_in_order() -> None:
    guards = build_guards(load_settings(guards=GuardSettings(enabled=("size", "size"), max_messages=1)))
    assert [g.name for g in guards] == ["size", "size"]
    assert all(isinstance(g, SizeGuard) and g.limits.max_messages == 1 for g in guards)
    assert build_guards(load_settings(guards=GuardSettings(enabled=()))) == ()


def test_an_unknown_guard_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown guards \['nope'\]"):
        build_guards(load_settings(guards=GuardSettings(enabled=("size", "nope"))))
    assert "nope" not in GUARDS


def test_response_format_guard_blocks_an_invalid_schema_and_passes_a_valid_one() -> None:
    from guards.base import GuardInput
    from guards.response_format import ResponseFormatGuard
    from schemas.request import LLMRequest

    def subject(schema: dict[str, object] | None) -> GuardInput:
        request = LLMRequest(
            id="g1", tenant="t", user="u", messages=[{"role": "user", "content": "x"}], response_format=schema
        )
        return GuardInput(request=request, raw_size=10)

    guard = ResponseFormatGuard()
    assert guard.check(subject(None)).block is None
    assert guard.check(subject({"type": "object", "properties": {"a": {"type": "integer"}}})).block is None
    block = guard.check(subject({"type": 12})).block
    assert block is not None and block.code == ErrorCode.INVALID_REQUEST and block.rule == "schema"
    assert "type" in block.message
