"""PII guards: in prompts (``pii_input``: redact, block or allow) and in answers (``pii_output``: redact, block or
allow), each a guardrails validator over Presidio's recognizers (:mod:`guards.pii.recognizers`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial

from gateway.guard_policy import GuardPolicy
from guards.base import PASS, Block, GuardInput, GuardStage, Verdict
from guards.pii.recognizers import default_recognizers, find_entities
from guards.pii.redact import Placeholders, count_by_type, replace
from guards.pii.screening import Recognizer
from guards.pii.stream_window import PassWindow, RedactionWindow
from guards.rails import RailedCheck
from guards.text import last_text
from schemas.codes import ErrorCode
from schemas.request import ChatMessage


def screen_prompt(recognizers: list[Recognizer], subject: GuardInput) -> Verdict:
    """Find PII in the system prompt and every message; redact, block or only count it per the policy."""
    request, mode = subject.request, subject.policy.pii_input
    placeholders = Placeholders()
    counts: Counter[str] = Counter()

    def redacted(text: str) -> str:
        findings = find_entities(text, recognizers)
        counts.update(count_by_type(findings))
        return replace(text, findings, placeholders) if findings else text

    system = redacted(request.system) if request.system else request.system
    messages = [ChatMessage(role=m.role, content=redacted(m.content)) for m in request.messages]
    prompt = request.prompt
    if prompt is not None and prompt.variables:
        variables = {name: redacted(value) for name, value in prompt.variables.items()}
        prompt = prompt.model_copy(update={"variables": variables})
    if not counts:
        return PASS
    entities = dict(counts)
    if mode == "allow":
        return Verdict(action="allow", entities=entities)
    rewritten = request.model_copy(update={"system": system, "messages": messages, "prompt": prompt})
    if mode == "block":
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(entities.items()))
        block = Block(ErrorCode.GUARDRAIL_BLOCKED, f"the prompt contains PII ({kinds})", "pii_input")
        return Verdict(action="block", block=block, entities=entities, request=rewritten)
    return Verdict(action="redact", entities=entities, request=rewritten, restore=placeholders.restore_map())


def output_verdict(entities: dict[str, int], *, blocked: bool, output: str | None = None) -> Verdict:
    """The verdict on PII found in an answer: a redaction, or (``pii_output = "block"``) a block."""
    if not entities:
        return PASS
    if blocked:
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(entities.items()))
        block = Block(ErrorCode.GUARDRAIL_BLOCKED, f"the answer contains PII ({kinds})", "pii_output")
        return Verdict.blocking(block, entities=entities)
    return Verdict(action="redact", entities=entities, output=output)


def screen_output(recognizers: list[Recognizer], subject: GuardInput) -> Verdict:
    """Replace PII in the answer with typed placeholders (``<EMAIL_ADDRESS>``), or block it."""
    text = subject.output or ""
    findings = find_entities(text, recognizers)
    if subject.policy.pii_output == "block":
        return output_verdict(count_by_type(findings), blocked=True)
    return output_verdict(count_by_type(findings), blocked=False, output=replace(text, findings, None))


@dataclass
class PiiOutputStream:
    """:class:`~guards.base.OutputStream` of the output PII guard: its recognizers over a sliding window."""

    window: RedactionWindow | PassWindow

    @property
    def blocked(self) -> bool:
        """True once PII was found under ``pii_output = "block"``."""
        return self.window.blocked

    def feed(self, delta: str) -> str:
        """The redacted text that may be delivered now."""
        return self.window.feed(delta)

    def close(self) -> str:
        """The rest, redacted."""
        return self.window.close()

    def verdict(self) -> Verdict:
        """A redaction or block counting every value found so far."""
        return output_verdict(dict(self.window.entities), blocked=self.window.blocked)


@dataclass
class PiiInputGuard:
    """PII in prompts, per the tenant's ``pii_input``."""

    recognizers: list[Recognizer] = field(default_factory=default_recognizers)
    name: str = "pii"
    stage: GuardStage = "content"
    _rails: RailedCheck = field(init=False)

    def __post_init__(self) -> None:
        self._rails = RailedCheck(lambda subject: screen_prompt(self.recognizers, subject))

    def check(self, subject: GuardInput) -> Verdict:
        """The verdict; under ``redact``/``block`` it carries the redacted request."""
        return self._rails.run(subject, last_text(subject.request))


@dataclass
class PiiOutputGuard:
    """PII in answers, per the tenant's ``pii_output``; streamed answers through a sliding window of
    ``stream_window`` characters (:mod:`guards.pii.stream_window`)."""

    recognizers: list[Recognizer] = field(default_factory=default_recognizers)
    stream_window: int = 64
    name: str = "pii_output"
    stage: GuardStage = "output"
    _rails: RailedCheck = field(init=False)

    def __post_init__(self) -> None:
        self._rails = RailedCheck(lambda subject: screen_output(self.recognizers, subject))

    def check(self, subject: GuardInput) -> Verdict:
        """The verdict; ``redact`` carries the redacted output."""
        if subject.policy.pii_output == "allow" or not subject.output:
            return PASS
        return self._rails.run(subject, subject.output)

    def open_stream(self, policy: GuardPolicy) -> PiiOutputStream:
        """A window over one streamed answer under ``policy`` (everything passes under ``allow``)."""
        if policy.pii_output == "allow":
            return PiiOutputStream(PassWindow())
        find = partial(find_entities, recognizers=self.recognizers)
        block = policy.pii_output == "block"
        return PiiOutputStream(RedactionWindow(find, window=self.stream_window, block=block))
