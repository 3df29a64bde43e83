"""``streamgate guards eval FILE.jsonl``: how a guard does on labelled prompts (lines ``{"text", "label"}``).

``label`` 1 (or true, "malicious", "injection", "jailbreak", "pii") is a prompt the guard should stop; 0 one it must
leave alone. For ``injection`` a prompt counts as stopped when it is blocked; for ``pii`` when anything is found
(it would be redacted or blocked). A ``pii`` line may carry the planted ``value``: then the eval also counts it as
leaked when the redacted text (what a provider would receive under ``redact``) still holds any token of it of at
least four characters with a digit, or of eight characters, that the rest of the prompt does not.
Prints the true- and false-positive rates at the configured threshold, a table
over thresholds (injection: rules always block, the classifier's threshold varies), and the cost per KB.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
_POSITIVE = {"1", "true", "malicious", "injection", "jailbreak", "attack", "pii", "unsafe"}


@dataclass(frozen=True, slots=True)
class Scored:
    """One prompt: its label, the classifier score, whether a rule (or a PII finding) fired, the cost, and whether
    the embedding head blocked it (it applies at the calibrated threshold only)."""

    label: int
    score: float
    rule: bool
    ms: float
    kb: float
    second: bool = False


def read_labelled(path: Path) -> list[tuple[str, int]]:
    """``(text, label)`` pairs from a JSONL file."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append((str(row["text"]), int(str(row["label"]).strip().lower() in _POSITIVE)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: expected {{text, label}}: {exc}") from None
    return pairs


def score_all(guard: str, pairs: Iterable[tuple[str, int]]) -> list[Scored]:
    """Run ``guard`` (``injection`` or ``pii``) on every text, timing each."""
    if guard == "injection":
        from guards.injection.detector import InjectionDetector

        detector = InjectionDetector.load()

        def run(text: str) -> tuple[float, bool, bool]:
            found = detector.scan(text)
            return (found.score if found.scored else 0.0), found.rule is not None, found.second_blocked

    elif guard == "pii":
        from guards.pii.recognizers import default_recognizers, find_entities

        recognizers = default_recognizers()

        def run(text: str) -> tuple[float, bool, bool]:
            return 0.0, bool(find_entities(text, recognizers)), False

    else:
        raise ConfigError(f"unknown guard {guard!r}: injection | pii")
    scored = []
    for text, label in pairs:
        started = time.perf_counter()
        score, rule, second = run(text)
        elapsed_ms = (time.perf_counter() - started) * 1000
        scored.append(Scored(label, score, rule, elapsed_ms, len(text.encode()) / 1024, second))
    return scored


def rates(scored: Sequence[Scored], threshold: float, calibrated: float | None = None) -> dict[str, Any]:
    """TPR over the positives and FPR over the negatives, a prompt being stopped by a rule or the threshold, or
    by the embedding head when ``threshold`` is the ``calibrated`` one."""
    positives = [s for s in scored if s.label == 1]
    negatives = [s for s in scored if s.label == 0]
    head = calibrated is not None and threshold == calibrated

    def stopped(s: Scored) -> bool:
        return s.rule or s.score >= threshold or (head and s.second)

    return {
        "threshold": threshold,
        "tpr": sum(map(stopped, positives)) / len(positives) if positives else None,
        "fpr": sum(map(stopped, negatives)) / len(negatives) if negatives else None,
        "positives": len(positives),
        "negatives": len(negatives),
    }


def report(guard: str, scored: Sequence[Scored], threshold: float, calibrated: float | None = None) -> dict[str, Any]:
    """Rates at ``threshold``, the threshold table (injection only: the n-gram model and rules alone), latency per
    prompt and per KB of text. ``calibrated``: the threshold the embedding head's blocks count at."""
    costs = sorted(s.ms for s in scored)
    out: dict[str, Any] = {"guard": guard, "at_threshold": rates(scored, threshold, calibrated)}
    if guard == "injection":
        out["second_opinion_blocks"] = sum(s.second for s in scored)
        out["table"] = [rates(scored, t) for t in THRESHOLDS]
    if costs:
        out["ms_per_prompt"] = {
            "p50": round(statistics.median(costs), 3),
            "p99": round(costs[min(len(costs) - 1, int(0.99 * len(costs)))], 3),
        }
        out["ms_per_kb"] = round(sum(costs) / max(sum(s.kb for s in scored), 1e-9), 3)
    return out


def render(result: dict[str, Any]) -> str:
    """A human-readable rendering of :func:`report`."""

    def pct(value: float | None) -> str:
        return "   n/a" if value is None else f"{100 * value:5.1f}%"

    at = result["at_threshold"]
    lines = [
        f"guard {result['guard']}: {at['positives']} positives, {at['negatives']} negatives",
        f"at threshold {at['threshold']:.4f}: TPR {pct(at['tpr'])}  FPR {pct(at['fpr'])}",
    ]
    if "second_opinion_blocks" in result:
        lines.append(f"  of which blocked by the embedding head: {result['second_opinion_blocks']} (table: without it)")
    for row in result.get("table", []):
        lines.append(f"  threshold {row['threshold']:.2f}: TPR {pct(row['tpr'])}  FPR {pct(row['fpr'])}")
    if "planted_values" in result:
        lines.append(f"planted values: {result['planted_values']}, leaked after redaction: {result['leaked']}")
    if "ms_per_prompt" in result:
        per = result["ms_per_prompt"]
        lines.append(f"latency: p50 {per['p50']} ms, p99 {per['p99']} ms per prompt; {result['ms_per_kb']} ms per KB")
    return "\n".join(lines)


_TOKEN_RE = re.compile(r"[A-Za-z0-9_+/=]+")


def _telling_tokens(value: str, context: str) -> set[str]:
    tokens = {t for t in _TOKEN_RE.findall(value) if (len(t) >= 4 and any(c.isdigit() for c in t)) or len(t) >= 8}
    return {t for t in tokens if t not in context}


def pii_leaks(path: Path) -> dict[str, int]:
    """Planted values (lines with a ``value``) and how many of them survive redaction, even in part."""
    from guards.pii.recognizers import default_recognizers, find_entities
    from guards.pii.redact import Placeholders, replace

    recognizers = default_recognizers()
    planted = leaked = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        value = row.get("value")
        if not isinstance(value, str):
            continue
        text = str(row["text"])
        redacted = replace(text, find_entities(text, recognizers), Placeholders())
        planted += 1
        leaked += any(token in redacted for token in _telling_tokens(value, text.replace(value, " ")))
    return {"planted_values": planted, "leaked": leaked}


def evaluate(path: Path, guard: str = "injection", threshold: float | None = None) -> dict[str, Any]:
    """Score a JSONL file and report; ``threshold`` defaults to the committed model's."""
    scored = score_all(guard, read_labelled(path))
    calibrated = None
    if guard == "injection":
        from guards.injection.model import InjectionModel

        calibrated = InjectionModel.load().threshold
    if threshold is None:
        threshold = calibrated if calibrated is not None else 0.5
    result = report(guard, scored, threshold, calibrated)
    if guard == "pii":
        result.update(pii_leaks(path))
    return result
