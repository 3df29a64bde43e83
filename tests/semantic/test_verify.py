"""The verification step refuses near misses that cosine similarity alone would serve, and keeps repeats."""

from __future__ import annotations

import pytest

from gateway.semantic.verify import verify

REFUSED = [
    ("Is ibuprofen safe to take with alcohol?", "Is ibuprofen unsafe to take with alcohol?", "antonym"),
    ("Cancel my subscription", "Don't cancel my subscription", "negation"),
    ("Is the deposit refundable?", "Is the deposit non-refundable?", "negation"),
    ("Remind me at 7am", "Remind me at 7pm", "number_or_date"),
    ("Are you open on Saturday?", "Are you open on Sunday?", "number_or_date"),
    ("Is the 9:15 train on time?", "Is the 9:45 train on time?", "number_or_date"),
    ("What's the stamp duty on a house in England?", "What's the stamp duty on a house in Wales?", "entity"),
    ("Transfer £50 from my savings to my current account", "Transfer £50 from my current account to my savings",
     "role_swap"),
    ("What's covered under the warranty?", "What's covered under the extended warranty?", "scope"),
    ("Is the chicken dish gluten-free?", "Is the beef dish gluten-free?", "substitution"),
    ("Can I get the flu jab for free?", "Can my child get the flu jab for free?", "added_qualifier"),
]  # fmt: skip
SERVED = [
    ("How do I cancel my mobile contract?", "How can I cancel my mobile contract?"),
    ("Do you accept Apple Pay?", "Do You Accept Apple Pay?"),
    ("Where can I charge my electric car in town?", "Hey, where can I charge my electric car in town?"),
    ("Is there a discount for students on train tickets?", "On train tickets, is there a discount for students?"),
    ("Do you charge a call-out fee for emergency plumbing?", "Do you charge a call-out fee for emergancy plumbing?"),
]


@pytest.mark.parametrize(("cached", "query", "reason"), REFUSED)
def test_near_misses_are_refused_even_at_high_similarity(cached: str, query: str, reason: str) -> None:
    verdict = verify(cached, query, 0.99, restructured_threshold=0.8)
    assert (verdict.ok, verdict.reason) == (False, reason)


@pytest.mark.parametrize(("cached", "query"), SERVED)
def test_repeats_and_light_rewordings_pass(cached: str, query: str) -> None:
    assert verify(cached, query, 0.95, restructured_threshold=0.8).ok


def test_a_restructured_question_needs_the_stricter_threshold() -> None:
    a, b = "How long does a passport renewal take today?", "Renewing passports today: what is the waiting period?"
    assert not verify(a, b, 0.79, restructured_threshold=0.85).ok
    assert verify(a, b, 0.9, restructured_threshold=0.85).ok
