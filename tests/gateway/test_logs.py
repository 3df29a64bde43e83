"""Structured logs: JSON lines tagged with the request; payloads only when asked for, and then redacted."""

from __future__ import annotations

import json
import logging

import pytest

from agents.account import charge_of, log_settled
from gateway.logs import JsonFormatter, payload_fields, redact_patterns, request_context
from gateway.settings import LogSettings, load_settings
from tests.support.factories import make_request, make_settlement

SECRET = "mail jane.doe@example.com or call +1 415 555 0100 about card 4111 1111 1111 1111"


def format_record(message: str, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord({"msg": message, "levelname": "INFO", "name": "t", **extra})
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_a_record_inside_a_request_carries_its_id_tenant_and_stage() -> None:
    with request_context("req-1", "acme", "complete"):
        doc = format_record("calling")
    assert (doc["request_id"], doc["tenant"], doc["stage"], doc["message"]) == ("req-1", "acme", "complete", "calling")
    outside = format_record("idle", worker=3)
    assert "request_id" not in outside and outside["worker"] == 3


def test_payloads_are_never_logged_unless_debug_payloads_is_on_and_then_redacted() -> None:
    assert payload_fields(LogSettings(), prompt=SECRET, output="ok") == {}
    fields = payload_fields(LogSettings(debug_payloads=True), prompt=SECRET, output="ok")
    assert fields["output"] == "ok"
    for secret in ("jane.doe@example.com", "555 0100", "4111"):
        assert secret not in fields["prompt"]
    assert redact_patterns("x@y.org") == "<email>"


@pytest.mark.parametrize("debug_payloads", [False, True])
def test_the_settled_line_holds_the_prompt_only_when_asked(
    debug_payloads: bool, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(logging=LogSettings(debug_payloads=debug_payloads))
    settlement = make_settlement(make_request(SECRET), output="the answer", input_tokens=10, output_tokens=2)
    with caplog.at_level(logging.DEBUG, logger="agents.account"):
        log_settled(settlement, charge_of(settlement, settings), settings)
    (record,) = caplog.records
    line = JsonFormatter().format(record)
    assert json.loads(line)["request_id"] == settlement.request.id and json.loads(line)["stage"] == "account"
    assert "jane.doe" not in line and "4111" not in line
    assert ("the answer" in line) is debug_payloads and ("<email>" in line) is debug_payloads
