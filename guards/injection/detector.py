"""The injection detector: classifier score and heuristic rules over the text and its decoded variants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from guards.injection.decode import decoded_variants, names_a_cipher, rule_only_variants
from guards.injection.features import normalise
from guards.injection.model import DEFAULT_MODEL, InjectionModel
from guards.injection.rules import CIPHER_RULES, matching_rule

# Below this many words the classifier has too little evidence (its intercept and one or two n-grams decide:
# "before" scored 0.74); such prompts are blocked by the rules only.
MIN_WORDS_FOR_CLASSIFIER = 3
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detector saw: the highest classifier score, the first rule that matched (if any), whether the
    text has enough words for the classifier to decide, and the verdict at the model's threshold."""

    score: float
    rule: str | None
    scored: bool
    blocked: bool


@dataclass(frozen=True, slots=True)
class InjectionDetector:
    """Blocks when a rule matches or the classifier's score reaches ``threshold``."""

    model: InjectionModel
    threshold: float

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL, threshold: float | None = None) -> InjectionDetector:
        """The committed model; ``threshold`` overrides the one calibrated at training."""
        model = InjectionModel.load(path)
        return cls(model, model.threshold if threshold is None else threshold)

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
        return Detection(score, rule, scored, rule is not None or (scored and score >= self.threshold))

    @staticmethod
    def blocks(found: Detection, threshold: float) -> bool:
        """Whether ``found`` is blocked at ``threshold``: a rule, or an eligible score at or above it."""
        return found.rule is not None or (found.scored and found.score >= threshold)
