"""Property: whatever bytes a client publishes, intake returns a valid request or refuses it with a stable reason
and code, and the dead letter and the client's rejection for it are always small enough to send."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.intake import InvalidEvent, check_bounds, parse_request
from gateway.settings import load_settings
from schemas.codes import ErrorCode
from schemas.dead_letter import DeadLetter
from schemas.request import LLMRequest
from schemas.result import LLMResult
from streams.runtime.dead_letters import dead_letter, rejection_for_invalid
from tests.support.hostile import HOSTILE

SETTINGS = load_settings()
REASONS = {"empty", "not_json", "not_object", "schema", "too_large"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=HOSTILE, key=st.one_of(st.none(), st.binary(max_size=2048)))
def test_every_hostile_event_is_a_valid_request_or_a_stable_refusal_that_fits(raw: bytes, key: bytes | None) -> None:
    guards = SETTINGS.guards
    try:
        request = parse_request(raw, max_depth=guards.max_json_depth)
        check_bounds(request, len(raw), guards)
    except InvalidEvent as bad:
        assert bad.reason in REASONS and bad.code in set(ErrorCode)
        message = SimpleNamespace(topic="llm.requests", partition=0, offset=7, key=key, value=raw)
        letter = dead_letter(message, bad.reason, bad.detail, max_raw_bytes=SETTINGS.max_dead_letter_bytes)
        assert len(letter) < SETTINGS.producer_max_request_size - 64 * 1024
        assert DeadLetter.model_validate_json(letter).raw_size == len(raw)
        answer = rejection_for_invalid(bad)
        if answer is not None:
            result = LLMResult.model_validate_json(answer[1])
            assert result.status == "rejected" and result.error is not None and result.error.code == bad.code
            assert len(answer[1]) < 16 * 1024
        return
    # Accepted: it round-trips through the wire format every later stage uses.
    assert LLMRequest.model_validate_json(request.model_dump_json()) == request
    assert len(orjson.dumps(request.metadata)) <= guards.max_metadata_bytes
