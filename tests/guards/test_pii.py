"""PII recognizers (Presidio's, offline) and the placeholders: every planted type found, numbers that are not
PII left alone, placeholders numbered and consistent, values put back only where asked."""

from __future__ import annotations

import pytest

from gateway.guard_policy import GuardPolicy
from guards.base import GuardInput
from guards.pii.recognizers import default_recognizers, find_entities
from guards.pii.redact import Placeholders, replace, restore
from guards.pii_guard import PiiInputGuard, PiiOutputGuard
from tests.support.factories import make_request
from tests.support.pii_samples import PLANTED, prompt_with_all

RECOGNIZERS = default_recognizers()
NUMBERS_BUT_NO_PII = [
    "Order #A123-99812 shipped on 2024-03-05 and should arrive by 2024-03-09.",
    "Upgrade from version 1.2.3 to 4.17.0-rc1 before Friday.",
    "The price is $19.99, or 1,299.00 EUR for the bundle of 12.",
    "Tracking code 1Z999AA10123456784, parcel 3 of 4, 2.5 kg.",
    "Invoice 2024-0042 for ticket 45678, due in 30 days at 10:30.",
    "Call the API with limit=500 and offset=1000, timeout 30s, retries 3.",
    "Please ship order #13689-9894-03 by 3 March; it weighs 8.8 lb.",
    "Invoice INV-2024-555-0187 is attached.",
    "Release 2024.555.1234 of build v415.555.2671 ships on 12.05.2025; SKU-415-555-2671 and #415-555-2671.",
    "Totals: $415.555.2671 is not a price, and 415-555-26712 is no phone either.",
    "The commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 fixed the aws secret rotation job.",
    "Order 536228741 ships from warehouse 0049 with ref 00123 4567 890.",
]
SHAPED_BUT_UNASSIGNED = [
    ("my cell is (555) 123-4567", "(555) 123-4567", "PHONE_NUMBER"),
    ("call 555-123-4567 or", "555-123-4567", "PHONE_NUMBER"),
    ("phone: 555.123.4567.", "555.123.4567", "PHONE_NUMBER"),
    ("on +1 (555) 010-9999 today", "+1 (555) 010-9999", "PHONE_NUMBER"),
    ("my SSN is 123-45-6789", "123-45-6789", "US_SSN"),
    ("SSN: 536228741", "536228741", "US_SSN"),
    ("call 0044 20 7946 0958 from abroad", "0044 20 7946 0958", "PHONE_NUMBER"),
    ("ssn 078-05-1120 please", "078-05-1120", "US_SSN"),
    (
        "my aws secret is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, rotate it",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SECRET_KEY",
    ),
]


@pytest.mark.parametrize(("kind", "value"), sorted(PLANTED.items()))
def test_every_planted_type_is_found(kind: str, value: str) -> None:
    text = f"Here it is: {value} - thanks"
    found = [(f.entity, text[f.start : f.end]) for f in find_entities(text, RECOGNIZERS)]
    assert (kind, value) in found, found


def test_us_phone_formats_and_invalid_cards_and_ssns() -> None:
    found = {f.entity for f in find_entities("call (415) 555-2671 or 415.555.2671", RECOGNIZERS)}
    assert found == {"PHONE_NUMBER"}
    assert find_entities("card 4111 1111 1111 1112", RECOGNIZERS) == []  # fails Luhn
    assert find_entities("ssn 000-12-3456", RECOGNIZERS) == []  # never issued
    assert find_entities("iban DE89 3704 0044 0532 0130 01", RECOGNIZERS) == []  # bad checksum


@pytest.mark.parametrize(("text", "value", "kind"), SHAPED_BUT_UNASSIGNED)
def test_unassigned_phones_sample_ssns_and_prose_aws_secrets_are_found(text: str, value: str, kind: str) -> None:
    assert [(f.entity, text[f.start : f.end]) for f in find_entities(text, RECOGNIZERS)] == [(kind, value)]


def test_ssns_that_cannot_be_issued_or_mix_separators_are_still_refused() -> None:
    assert find_entities("ssn 123-45 6789", RECOGNIZERS) == []
    assert find_entities("ssn 666-12-3456", RECOGNIZERS) == []


@pytest.mark.parametrize("text", NUMBERS_BUT_NO_PII)
def test_numbers_that_are_not_pii_are_left_alone(text: str) -> None:
    assert find_entities(text, RECOGNIZERS) == []


def test_placeholders_are_typed_numbered_and_consistent() -> None:
    text = "a@example.com, b@example.com, then a@example.com again"
    placeholders = Placeholders()
    out = replace(text, find_entities(text, RECOGNIZERS), placeholders)
    assert out == "<EMAIL_ADDRESS_1>, <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1> again"
    assert restore("write to <EMAIL_ADDRESS_2>", placeholders.restore_map()) == "write to b@example.com"


def subject(text: str, **policy: object) -> GuardInput:
    return GuardInput(
        request=make_request(text, system="Agent desk, reach us at help@shop.example.com"),
        raw_size=10,
        policy=GuardPolicy(**policy),
    )  # type: ignore[arg-type]


def test_redact_rewrites_system_and_messages_and_counts_entities() -> None:
    verdict = PiiInputGuard().check(subject(prompt_with_all()))
    assert verdict.action == "redact" and verdict.request is not None and verdict.block is None
    sent = verdict.request.model_dump_json()
    assert not any(value in sent for value in PLANTED.values())
    assert verdict.entities == {**{kind: 1 for kind in PLANTED}, "EMAIL_ADDRESS": 2}
    assert "<EMAIL_ADDRESS_1>" in (verdict.request.system or "")
    assert dict(verdict.restore)["<EMAIL_ADDRESS_1>"] == "help@shop.example.com"


def test_block_refuses_and_allow_only_counts() -> None:
    blocked = PiiInputGuard().check(subject("mail jane@corp.io", pii_input="block"))
    assert blocked.action == "block" and blocked.block is not None and blocked.block.rule == "pii_input"
    assert "jane@corp.io" not in blocked.block.message
    allowed = PiiInputGuard().check(subject("mail jane@corp.io", pii_input="allow"))
    assert allowed.action == "allow" and allowed.request is None and allowed.entities == {"EMAIL_ADDRESS": 2}


def test_output_redaction_uses_unnumbered_placeholders_and_can_be_off() -> None:
    guard = PiiOutputGuard()
    request = make_request("hi")
    answer = "Sure, write to bob@example.org or call +1 415-555-2671."
    verdict = guard.check(GuardInput(request=request, raw_size=0, output=answer))
    assert verdict.output == "Sure, write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>."
    assert verdict.entities == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    off = guard.check(GuardInput(request=request, raw_size=0, policy=GuardPolicy(pii_output="allow"), output=answer))
    assert off.action == "pass" and off.output is None
