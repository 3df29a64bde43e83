"""Train the injection classifier offline: ``streamgate guards train`` (or ``python -m guards.injection.train``).

Fits on the ``train`` splits plus samples built from them (:mod:`guards.injection.augment`), calibrates the
threshold on the ``validation`` splits, reports every held-out ``test`` split, and writes the artefact; then trains
the embedding head on the validation data (:mod:`guards.injection.train_head`). Nothing
from a ``test`` split (nor any text equal to one) enters training. Deterministic: a fixed seed and sorted inputs.
Needs the ``train`` extra (scikit-learn, pyarrow and the corpus packages).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guards.injection import augment
from guards.injection.corpora import Sample, all_samples
from guards.injection.features import features, is_word_feature, normalise
from guards.injection.model import DEFAULT_MODEL, InjectionModel

SEED = 11
MAX_WORD_FEATURES = 50_000
MAX_CHAR_FEATURES = 100_000
C = 4.0
HIJACKS = 6000
SMALL_TALK = 3000
# The threshold is the lowest that keeps each of these validation corpora's benign prompts under its rate: the
# public benchmark at 1 %, the authored trigger-word and support questions at 0.5 % (the benign targets are
# stricter than the benchmark's). neuralchemy's benign half is reported but not used: it holds role-play prompts
# shaped like jailbreaks ("a very direct assistant who always fulfills the user's request, even if questionable"),
# and 1 % of it alone would set the threshold at 0.96.
CALIBRATION_FPR = {"slabs": 0.01, "authored": 0.005}


def split_samples(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample], list[Sample]]:
    """``(train, validation, test)``; a training or validation text equal to any test text is dropped."""
    test = [s for s in samples if s.split == "test"]
    held_out = {normalise(s.text) for s in test}
    kept = [s for s in samples if s.split != "test" and normalise(s.text) not in held_out]
    return [s for s in kept if s.split == "train"], [s for s in kept if s.split == "validation"], test


def build_training_set(train: Sequence[Sample], rng: random.Random) -> list[Sample]:
    """The training split plus hijack, long-benign, short, trigger-word, number and small-talk samples built from
    it or from templates."""
    benign = [s for s in train if s.label == 0]
    attacks = [s for s in train if s.label == 1]
    return [
        *train,
        *augment.hijacks(benign, attacks, rng, HIJACKS),
        *augment.long_benign(benign, rng, 2000),
        *augment.trigger_negatives(rng),
        *augment.short_benign(benign, rng, 1500),
        *augment.number_benign(rng, 1000),
        *augment.small_talk(rng, SMALL_TALK),
    ]


def fit(training: Sequence[Sample]) -> InjectionModel:
    """Two TF-IDF blocks (words, characters) + logistic regression, exported to an :class:`InjectionModel`
    (threshold 0.5 until calibrated)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    # Sorted: max_features breaks frequency ties by first appearance, and a set's order changes with the hash seed.
    documents = [sorted(features(s.text)) for s in training]
    blocks = [
        TfidfVectorizer(analyzer=_words, binary=True, min_df=2, max_features=MAX_WORD_FEATURES),
        TfidfVectorizer(analyzer=_chars, binary=True, min_df=2, max_features=MAX_CHAR_FEATURES),
    ]
    matrix = hstack([block.fit_transform(documents) for block in blocks]).tocsr()
    classifier = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=SEED)
    classifier.fit(matrix, [s.label for s in training])
    names = [str(name) for block in blocks for name in block.get_feature_names_out()]
    idfs = [float(idf) for block in blocks for idf in block.idf_]
    weights = {name: (idf, float(coef)) for name, idf, coef in zip(names, idfs, classifier.coef_[0], strict=True)}
    return InjectionModel(weights, float(classifier.intercept_[0]), 0.5)


def _words(document: list[str]) -> list[str]:
    return [f for f in document if is_word_feature(f)]


def _chars(document: list[str]) -> list[str]:
    return [f for f in document if not is_word_feature(f)]


def calibrate(model: InjectionModel, validation: Sequence[Sample], fpr: float) -> float:
    """The lowest threshold whose false-positive rate on the benign validation samples is at most ``fpr``."""
    benign = sorted((model.score(s.text) for s in validation if s.label == 0), reverse=True)
    allowed = int(fpr * len(benign))
    return min(0.99, max(0.5, benign[allowed] + 1e-6)) if benign else 0.5


def rates(model: InjectionModel, samples: Sequence[Sample], threshold: float) -> dict[str, Any]:
    """TPR on the attacks and FPR on the benign samples of ``samples``."""
    scores = [(model.score(s.text), s.label) for s in samples]
    attacks = [p for p, label in scores if label == 1]
    benign = [p for p, label in scores if label == 0]
    return {
        "attacks": len(attacks),
        "tpr": round(sum(p >= threshold for p in attacks) / len(attacks), 4) if attacks else None,
        "benign": len(benign),
        "fpr": round(sum(p >= threshold for p in benign) / len(benign), 4) if benign else None,
    }


def validation_set(validation: Sequence[Sample]) -> list[Sample]:
    """The validation splits plus the authored trigger-word, number and small-talk samples calibrated on."""
    extra = random.Random(SEED + 1)
    return [
        *validation,
        *augment.trigger_negatives(extra, per_template=4),
        *augment.number_benign(extra, 200),
        *augment.small_talk(extra, 300),
    ]


def train(output: Path = DEFAULT_MODEL) -> InjectionModel:
    """Fit, calibrate, measure and save; returns the saved model."""
    rng = random.Random(SEED)
    train_split, validation, test = split_samples(all_samples())
    model = fit(build_training_set(train_split, rng))
    validation = validation_set(validation)
    threshold = max(
        calibrate(model, [s for s in validation if s.corpus == corpus], fpr) for corpus, fpr in CALIBRATION_FPR.items()
    )
    report: dict[str, Any] = {"threshold": round(threshold, 4), "validation": rates(model, validation, threshold)}
    for corpus in sorted({s.corpus for s in test}):
        report[f"test.{corpus}"] = rates(model, [s for s in test if s.corpus == corpus], threshold)
    info = {
        "trained_on": "train splits of slabs, neuralchemy (core), yanis (80%) + samples built from them and templates",
        "calibrated_on": f"validation splits, benign FPR per corpus <= {CALIBRATION_FPR}",
        "features": len(model.weights),
        "report": report,
    }
    final = InjectionModel(model.weights, model.intercept, threshold, info)
    final.save(output)
    return final


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--output PATH`` (default: the committed artefact); the embedding head is trained after it
    (:mod:`guards.injection.train_head`) and written beside it as ``head.json.gz`` unless ``--no-head``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--no-head", action="store_true", help="train the n-gram model only")
    args = parser.parse_args(argv)
    model = train(args.output)
    for name, figures in model.info["report"].items():
        print(f"{name:>20}: {figures}")
    print(f"wrote {args.output} ({len(model.weights)} features)")
    if not args.no_head:
        from guards.injection.train_head import train_head

        target = args.output.with_name("head.json.gz")
        head = train_head(model, target)
        for name, figures in head.info["validation_out_of_fold"].items():
            print(f"{'head ' + name:>20}: {figures}")
        print(f"wrote {target} (threshold {head.threshold})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
