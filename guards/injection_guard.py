"""The prompt-injection and jailbreak guard: :class:`guards.injection.detector.InjectionDetector` on every user
turn, as a guardrails validator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guards.base import PASS, Block, GuardInput, GuardStage, Verdict
from guards.injection.detector import Detection, InjectionDetector
from guards.rails import RailedCheck
from guards.text import last_text, user_texts
from schemas.codes import ErrorCode

# PII placeholders (<EMAIL_ADDRESS_1>) are ours, not the client's: the classifier never saw them in training.
_PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z_]*_\d+>")


def scan_request(detector: InjectionDetector, subject: GuardInput) -> Verdict:
    """Block when any user turn is an injection; the verdict carries the highest classifier score."""
    threshold = subject.policy.injection_threshold or detector.threshold
    worst: Detection | None = None
    for text in user_texts(subject.request):
        found = detector.scan(_PLACEHOLDER_RE.sub("", text) if "<" in text else text)
        if detector.blocks(found, threshold):
            rule = found.rule or ("classifier.embedding" if found.second_blocked else "classifier")
            block = Block(ErrorCode.GUARDRAIL_BLOCKED, "the prompt looks like a prompt injection or jailbreak", rule)
            return Verdict.blocking(block, score=round(found.score, 4))
        if worst is None or found.score > worst.score:
            worst = found
    return Verdict(score=round(worst.score, 4)) if worst is not None else PASS


@dataclass
class InjectionGuard:
    """Blocks prompt injections and jailbreaks (policy ``injection = "allow"`` turns it off for a tenant)."""

    detector: InjectionDetector = field(default_factory=InjectionDetector.load)
    name: str = "injection"
    stage: GuardStage = "content"
    _rails: RailedCheck = field(init=False)

    def __post_init__(self) -> None:
        self._rails = RailedCheck(lambda subject: scan_request(self.detector, subject))

    def check(self, subject: GuardInput) -> Verdict:
        """The detector's verdict on the request's user turns."""
        if subject.policy.injection == "allow":
            return PASS
        return self._rails.run(subject, last_text(subject.request))
