"""The VADER lexicon as the verifier reads it: good and bad words, lemmas, and what counts as neutral."""

from __future__ import annotations

from gateway.semantic.lemmas import lemma_keys
from gateway.semantic.valence import MIN_VALENCE, leaning, valence


def test_words_are_rated_from_the_shipped_lexicon() -> None:
    assert valence(frozenset({"improve"})) >= MIN_VALENCE
    assert valence(frozenset({"damage"})) <= -MIN_VALENCE
    assert valence(frozenset({"boiler"})) == 0.0  # not rated: neutral


def test_an_inflected_word_is_rated_through_its_lemmas() -> None:
    assert valence(lemma_keys("damaging")) <= -MIN_VALENCE


def test_a_word_leans_good_bad_or_neither() -> None:
    assert leaning(lemma_keys("improve")) == "+"
    assert leaning(lemma_keys("harm")) == "-"
    assert leaning(lemma_keys("boiler")) == ""
    assert leaning(lemma_keys("freeze")) == ""  # a mild rating (0.2) is neutral
