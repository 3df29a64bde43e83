"""Provider usage objects -> the normalised token split of :mod:`gateway.token_counts`.

Each reader returns ``(input, cached_input, cache_write, output, reasoning)`` as a :class:`ReportedUsage`, with
``None`` for what the provider did not report. Readers exist for the non-streamed bodies and for the usage parts of
the providers' streams (OpenAI's final ``include_usage`` chunk; Anthropic's ``message_start`` and
``message_delta`` events), so a streamed answer is priced exactly like a non-streamed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.providers._common import token_count


@dataclass(frozen=True, slots=True)
class ReportedUsage:
    """Token counts as the provider reported them, normalised; ``None`` where not reported."""

    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None


def _details(usage: Mapping[str, Any], key: str, field: str) -> int | None:
    details = usage.get(key)
    return token_count(details.get(field)) if isinstance(details, Mapping) else None


def openai_usage(usage: object) -> ReportedUsage:
    """An OpenAI chat-completions ``usage``: ``prompt_tokens`` already includes the cached tokens and
    ``completion_tokens`` the reasoning tokens, so both pass through unchanged."""
    if not isinstance(usage, Mapping):
        return ReportedUsage()
    return ReportedUsage(
        input_tokens=token_count(usage.get("prompt_tokens")),
        cached_input_tokens=_details(usage, "prompt_tokens_details", "cached_tokens"),
        cache_write_tokens=None,
        output_tokens=token_count(usage.get("completion_tokens")),
        reasoning_tokens=_details(usage, "completion_tokens_details", "reasoning_tokens"),
    )


def anthropic_usage(usage: object) -> ReportedUsage:
    """An Anthropic Messages ``usage``: its ``input_tokens`` excludes cache reads and writes, so the normalised
    input is their sum. Thinking is billed inside ``output_tokens`` and not reported apart."""
    if not isinstance(usage, Mapping):
        return ReportedUsage()
    base = token_count(usage.get("input_tokens"))
    reads = token_count(usage.get("cache_read_input_tokens"))
    writes = token_count(usage.get("cache_creation_input_tokens"))
    return ReportedUsage(
        input_tokens=None if base is None else base + (reads or 0) + (writes or 0),
        cached_input_tokens=reads,
        cache_write_tokens=writes,
        output_tokens=token_count(usage.get("output_tokens")),
        reasoning_tokens=None,
    )


def openai_stream_usage(chunks: Iterable[object]) -> ReportedUsage:
    """The usage of an OpenAI stream: the last chunk with a non-null ``usage`` (sent with ``include_usage``)."""
    found: object = None
    for chunk in chunks:
        if isinstance(chunk, Mapping) and isinstance(chunk.get("usage"), Mapping):
            found = chunk["usage"]
    return openai_usage(found)


def anthropic_stream_usage(events: Iterable[object]) -> ReportedUsage:
    """The usage of an Anthropic stream: ``message_start``'s usage updated by each ``message_delta``'s (whose
    counts are cumulative; the output count there is final)."""
    merged: dict[str, Any] = {}
    for event in events:
        if not isinstance(event, Mapping):
            continue
        if event.get("type") == "message_start" and isinstance(event.get("message"), Mapping):
            usage = event["message"].get("usage")
        elif event.get("type") == "message_delta":
            usage = event.get("usage")
        else:
            continue
        if isinstance(usage, Mapping):
            merged.update({k: v for k, v in usage.items() if v is not None})
    return anthropic_usage(merged) if merged else ReportedUsage()
