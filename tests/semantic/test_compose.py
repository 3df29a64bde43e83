"""Composed evaluation pairs: labels that follow from the data's own, within one file."""

from __future__ import annotations

from gateway.semantic.compose import composed

PAIRS = [
    {"a": "How do I increase the font size?", "b": "How can I make the text bigger?", "same": True},
    {"a": "How do I increase the font size?", "b": "Make the font larger", "same": True},
    {"a": "How do I increase the font size?", "b": "How do I decrease the font size?", "same": False,
     "category": "negation"},
    {"a": "Where is my parcel?", "b": "Where's my parcel?", "same": True},
]  # fmt: skip


def test_a_true_pair_against_a_trap_of_the_same_question_is_a_reworded_trap() -> None:
    derived = composed(PAIRS)
    traps = {(p["a"], p["b"]) for p in derived if not p["same"]}
    assert ("How can I make the text bigger?", "How do I decrease the font size?") in traps
    assert ("How do I decrease the font size?", "Make the font larger") in traps
    assert all(p["category"] == "composed_negation" for p in derived if not p["same"])


def test_two_true_pairs_of_one_question_share_its_answer_and_lone_anchors_give_nothing() -> None:
    derived = composed(PAIRS)
    same = {(p["a"], p["b"]) for p in derived if p["same"]}
    assert same == {("How can I make the text bigger?", "Make the font larger"),
                    ("Make the font larger", "How can I make the text bigger?")}  # fmt: skip
    assert len(derived) == 6  # 2 true x 1 trap x both directions + 2 ordered true pairs; the parcel has no partner
