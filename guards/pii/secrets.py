"""Presidio pattern recognizers for credentials: provider API keys, cloud and chat tokens, private key blocks.

Prefixes follow each vendor's published token formats; lengths are lower bounds so new, longer keys still match.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

SECRET_PATTERNS: dict[str, tuple[str, ...]] = {
    "ANTHROPIC_API_KEY": (r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{20,}",),
    "OPENAI_API_KEY": (
        r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}",
        r"\bsk-(?!ant-)[A-Za-z0-9]{20,}(?:T3BlbkFJ[A-Za-z0-9]{20,})?\b",
    ),
    "AWS_ACCESS_KEY": (r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",),
    "AWS_SECRET_KEY": (r"(?i)\baws_?secret_?(?:access_?)?key\b[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}\b",),
    "GITHUB_TOKEN": (r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"),
    "SLACK_TOKEN": (
        r"\bxox[abposre]-[A-Za-z0-9\-]{10,}",
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+",
    ),
    "STRIPE_KEY": (r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",),
    "GITLAB_TOKEN": (r"\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-]{20,}",),
    "GOOGLE_API_KEY": (r"\bAIza[0-9A-Za-z_\-]{35}",),
    "HUGGINGFACE_TOKEN": (r"\bhf_[A-Za-z0-9]{30,}\b",),
    "NPM_TOKEN": (r"\bnpm_[A-Za-z0-9]{36}\b",),
    "JWT": (r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",),
    "PRIVATE_KEY": (
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    ),
}

# A piece of text every match of each pattern above holds (same order), searched with the same flags
# (case-insensitive): without it the pattern is not run (:mod:`guards.pii.screening`).
SECRET_NEEDS: dict[str, tuple[str, ...]] = {
    "ANTHROPIC_API_KEY": ("sk-ant-",),
    "OPENAI_API_KEY": ("sk-", "sk-"),
    "AWS_ACCESS_KEY": ("AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA",),
    "AWS_SECRET_KEY": ("aws_?secret",),
    "GITHUB_TOKEN": ("gh[pousr]_", "github_pat_"),
    "SLACK_TOKEN": ("xox[abposre]-", r"hooks\.slack\.com/services/"),
    "STRIPE_KEY": ("_live_|_test_",),
    "GITLAB_TOKEN": ("gl(?:pat|dt|rt|ptt)-",),
    "GOOGLE_API_KEY": ("AIza",),
    "HUGGINGFACE_TOKEN": ("hf_",),
    "NPM_TOKEN": ("npm_",),
    "JWT": (r"eyJ[A-Za-z0-9_\-]+\.eyJ",),
    "PRIVATE_KEY": ("-----BEGIN ",),
}


# A 40-character AWS secret access key written in prose ("my aws secret is wJalr..."), not as ``key=value``: a
# token of exactly 40 key characters with upper and lower case and a digit (so no 40-digit hex SHA-1), found only
# when "aws" or "secret" is written within _KEY_CONTEXT characters before it.
_AWS_SECRET_TOKEN = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_SECRET_CONTEXT = re.compile(r"(?i)\b(?:aws|secret)")
_CONTEXT_WORDS = ("aws", "secret")
_KEY_CONTEXT = 80


def _mixed(token: str) -> bool:
    return any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)


class AwsSecretInProseRecognizer(EntityRecognizer):
    """AWS secret access keys that follow the word "aws" or "secret" in a sentence; the span is the key alone."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["AWS_SECRET_KEY"], name="AwsSecretInProseRecognizer")

    def load(self) -> None:
        """Nothing to load: one regex."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Each key-shaped token with the context word before it."""
        lowered = text.lower()
        if not any(word in lowered for word in _CONTEXT_WORDS):  # a plain scan first: the regexes cost more
            return []
        found: list[RecognizerResult] = []
        for match in _AWS_SECRET_TOKEN.finditer(text):
            if not _mixed(match.group()):
                continue
            if _AWS_SECRET_CONTEXT.search(text, max(0, match.start() - _KEY_CONTEXT), match.start()):
                found.append(RecognizerResult("AWS_SECRET_KEY", match.start(), match.end(), 0.8))
        return found


def secret_recognizers() -> list[EntityRecognizer]:
    """One recognizer per credential type, each match scored 1.0 (the prefixes make them unambiguous), and the
    AWS secret keys written in prose."""
    patterned: list[EntityRecognizer] = [
        PatternRecognizer(
            supported_entity=entity,
            patterns=[Pattern(f"{entity}_{i}", regex, 1.0) for i, regex in enumerate(regexes)],
        )
        for entity, regexes in SECRET_PATTERNS.items()
    ]
    return [*patterned, AwsSecretInProseRecognizer()]
