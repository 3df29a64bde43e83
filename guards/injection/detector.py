"""The injection detector: classifier score and heuristic rules over the text and its decoded variants, and the
embedding head (:mod:`guards.injection.head`) as a second opinion on short texts the classifier is unsure of."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from guards.injection.decode import decoded_variants, names_a_cipher, rule_only_variants
from guards.injection.features import normalise
from guards.injection.head import DEFAULT_HEAD, EmbeddingHead, LazyEmbedder, load_embedder
from guards.injection.model import DEFAULT_MODEL, InjectionModel
from guards.injection.rules import CIPHER_RULES, matching_rule

# Below this many words the classifier has too little evidence (its intercept and one or two n-grams decide:
# "before" scored 0.74); such prompts are blocked by the rules only.
MIN_WORDS_FOR_CLASSIFIER = 3
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detector saw: the highest classifier score, the first rule that matched (if any), whether the
    text has enough words for the classifier to decide, the verdict at the model's threshold, and the embedding
    head's probability when it ran (``second``; ``second_blocked``: it reached the head's threshold)."""

    score: float
    rule: str | None
    scored: bool
    blocked: bool
    second: float | None = None
    second_blocked: bool = False


@dataclass(frozen=True, slots=True)
class InjectionDetector:
    """Blocks when a rule matches, the classifier's score reaches ``threshold``, or (at the calibrated threshold
    only) the embedding head, run on a short text in its band, reaches its own."""

    model: InjectionModel
    threshold: float
    head: EmbeddingHead | None = None
    embedder: LazyEmbedder | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        path: Path = DEFAULT_MODEL,
        threshold: float | None = None,
        head: Path | None = DEFAULT_HEAD,
    ) -> InjectionDetector:
        """The committed model and head; ``threshold`` overrides the one calibrated at training (the head was
        calibrated with it, so an override turns the head off); ``head=None``: the n-gram model alone."""
        model = InjectionModel.load(path)
        if (threshold is not None and threshold != model.threshold) or head is None:
            return cls(model, model.threshold if threshold is None else threshold)
        return cls(model, model.threshold, EmbeddingHead.load(head), load_embedder())

    def scan(self, text: str) -> Detection:
        """Scan one text: the original first, then each decoded variant."""
        score = self.model.score(text)
        clean = normalise(text)
        rule = matching_rule(clean)
        variants = decoded_variants(text)
        if names_a_cipher(text):
            variants.append(rule_only_variants(clean)[0])
        for variant in variants:
            score = max(score, self.model.score(variant))
            if rule is None:
                found = matching_rule(normalise(variant))
                rule = f"encoded.{found}" if found else None
        if rule is None:
            for variant in rule_only_variants(clean):
                found = matching_rule(variant, CIPHER_RULES)
                if found:
                    rule = f"encoded.{found}"
                    break
        scored = len(_WORD_RE.findall(text, 0, 400)) >= MIN_WORDS_FOR_CLASSIFIER
        blocked = rule is not None or (scored and score >= self.threshold)
        if blocked or not scored or self.head is None or self.embedder is None:
            return Detection(score, rule, scored, blocked)
        if not self.head.applies(text, score, self.threshold):
            return Detection(score, rule, scored, blocked)
        second = self.head.probability(self.embedder.embed(text), score)
        hit = second >= self.head.threshold
        return Detection(score, rule, scored, hit, second, hit)

    def blocks(self, found: Detection, threshold: float) -> bool:
        """Whether ``found`` is blocked at ``threshold``: a rule, an eligible score at or above it, or (at the
        calibrated threshold only) the embedding head."""
        if found.rule is not None or (found.scored and found.score >= threshold):
            return True
        return found.second_blocked and threshold == self.threshold
