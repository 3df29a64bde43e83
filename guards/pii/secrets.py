"""Presidio pattern recognizers for credentials: provider API keys, cloud and chat tokens, private key blocks.

Prefixes follow each vendor's published token formats; lengths are lower bounds so new, longer keys still match.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

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
    "PRIVATE_KEY": ("-----BEGIN ",),
}


def secret_recognizers() -> list[PatternRecognizer]:
    """One recognizer per credential type, each match scored 1.0 (the prefixes make them unambiguous)."""
    return [
        PatternRecognizer(
            supported_entity=entity,
            patterns=[Pattern(f"{entity}_{i}", regex, 1.0) for i, regex in enumerate(regexes)],
        )
        for entity, regexes in SECRET_PATTERNS.items()
    ]
