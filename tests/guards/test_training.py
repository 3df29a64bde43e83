"""Training: test splits never leak into training, and a fit is reproducible and loads back."""

from __future__ import annotations

import random
from pathlib import Path

from guards.injection import train
from guards.injection.corpora import all_samples
from guards.injection.features import normalise
from guards.injection.model import InjectionModel


def test_no_training_or_validation_text_equals_a_test_text() -> None:
    training, validation, test = train.split_samples(all_samples())
    held_out = {normalise(s.text) for s in test}
    assert {s.corpus for s in test} == {"slabs", "neuralchemy", "yanis", "bastion"}
    built = train.build_training_set(training, random.Random(train.SEED))
    assert all(s.split != "test" for s in [*built, *validation])
    assert not {normalise(s.text) for s in [*training, *validation]} & held_out
    assert all(s.corpus != "bastion" for s in [*training, *validation])  # held out whole


def test_a_fit_is_reproducible_and_round_trips(tmp_path: Path) -> None:
    training, _, _ = train.split_samples(all_samples())
    subset = sorted(training, key=lambda s: s.text)[:400]
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    train.fit(subset).save(first)
    train.fit(subset).save(second)
    assert first.read_bytes() == second.read_bytes()
    model = InjectionModel.load(first)
    assert 0 < len(model.weights) <= train.MAX_WORD_FEATURES + train.MAX_CHAR_FEATURES
