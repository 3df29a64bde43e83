"""The VADER lexicon as the verifier reads it: good and bad words, lemmas, and what counts as neutral."""

from __future__ import annotations

from gateway.semantic.lemmas import lemma_keys
from gateway.semantic.valence import MIN_VALENCE, polarity, valence


def test_words_are_rated_from_the_shipped_lexicon() -> None:
    assert valence(frozenset({"improve"})) >= MIN_VALENCE
    assert valence(frozenset({"damage"})) <= -MIN_VALENCE
    assert valence(frozenset({"boiler"})) == 0.0  # not rated: neutral


def test_an_inflected_word_is_rated_through_its_lemmas() -> None:
    assert valence(lemma_keys("damaging")) <= -MIN_VALENCE


def test_polarity_says_which_ways_a_set_of_words_leans() -> None:
    assert polarity([lemma_keys("improve"), lemma_keys("boiler")]) == {"+"}
    assert polarity([lemma_keys("harm")]) == {"-"}
    assert polarity([lemma_keys("improve"), lemma_keys("harm")]) == {"+", "-"}
    assert polarity([lemma_keys("freeze")]) == set()  # a mild rating (0.2) is neutral
