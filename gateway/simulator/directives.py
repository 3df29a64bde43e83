"""Prompt directives: per-request behaviour asked for inside the prompt, with no global state.

The simulator reads directives from the text of the **last user message** only (so a system prompt or earlier
history cannot trigger them by accident). A directive is ``#sim:NAME`` or ``#sim:NAME=VALUE``; unknown names
and unparseable values are ignored. Directives are applied on top of any configured faults.

==========================  ===========================================================================
``#sim:sleep_ms=N``         wait N milliseconds before answering (added to configured latency)
``#sim:status=N``           answer with HTTP status N in the provider's error format (e.g. 500, 503, 529)
``#sim:status=429``         rate-limited: 429 with a ``Retry-After`` header (1 s unless ``retry_after``)
``#sim:retry_after=S``      the ``Retry-After`` seconds of a 429 (implies ``status=429`` when no status)
``#sim:hang``               never answer; the client must time out (bounded by ``config.hang_max_s``)
``#sim:malformed``          answer 200 with a body that is not valid JSON for the wire format
``#sim:bad_json``           when a JSON reply is expected, reply with text that is not valid JSON (OpenAI),
                            or a tool input that breaks its ``input_schema`` (Anthropic); else no effect
``#sim:no_usage``           omit the usage fields (and the usage chunk of a stream)
``#sim:cached=N``           report N prompt tokens as read from the prompt cache (capped at the prompt):
                            OpenAI ``prompt_tokens_details.cached_tokens``, Anthropic ``cache_read_input_tokens``
``#sim:cache_write=N``      report N prompt tokens as written to the prompt cache (Anthropic
                            ``cache_creation_input_tokens``; OpenAI has no cache writes, ignored there)
``#sim:reasoning=N``        the model "thought" N extra output tokens: OpenAI adds them to ``completion_tokens``
                            and reports ``completion_tokens_details.reasoning_tokens``; Anthropic adds them to
                            ``output_tokens`` (it does not break thinking out)
``#sim:echo``               answer with the last user message itself (directives removed), e.g. to see what
                            reached the provider or to have placeholders repeated (text replies)
``#sim:delta_ms=N``         a streamed answer waits N milliseconds before each delta after the first (a model
                            that generates at a finite speed; added to ``config.stream_delta_ms``)
==========================  ===========================================================================

Example: ``"Summarise this. #sim:sleep_ms=1500 #sim:no_usage"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gateway.simulator.answers import content_text

_DIRECTIVE = re.compile(r"#sim:([a-z_]+)(?:=([^\s#]+))?")
_COUNTS = {"cached": "cached_tokens", "cache_write": "cache_write_tokens", "reasoning": "reasoning_tokens"}


@dataclass(frozen=True, slots=True)
class Directives:
    """What the last user message asked for; every field is off by default."""

    sleep_ms: float = 0.0
    status: int | None = None
    retry_after_s: float | None = None
    hang: bool = False
    malformed: bool = False
    bad_json: bool = False
    no_usage: bool = False
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    echo: bool = False
    delta_ms: float = 0.0
    cut_stream: bool = False  # set by the cut_stream_next fault, never by a prompt


NO_DIRECTIVES = Directives()


def parse_directives(text: str) -> Directives:
    """Parse every ``#sim:`` directive in ``text`` (the last one wins when repeated)."""
    if "#sim:" not in text:
        return NO_DIRECTIVES
    fields: dict[str, Any] = {}
    for name, value in _DIRECTIVE.findall(text):
        try:
            if name in ("sleep_ms", "delta_ms"):
                fields[name] = max(0.0, float(value))
            elif name == "status":
                fields["status"] = int(value)
            elif name == "retry_after":
                fields["retry_after_s"] = max(0.0, float(value))
            elif name in _COUNTS:
                fields[_COUNTS[name]] = max(0, int(value))
            elif name in ("hang", "malformed", "bad_json", "no_usage", "echo"):
                fields[name] = True
        except ValueError:
            continue
    if fields.get("retry_after_s") is not None and "status" not in fields:
        fields["status"] = 429
    return Directives(**fields)


def last_user_text(messages: Any) -> str:
    """The text of the last message whose role is ``user`` (empty when there is none)."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def without_directives(text: str) -> str:
    """``text`` with every ``#sim:`` directive removed."""
    return _DIRECTIVE.sub("", text).strip()


def directives_for(messages: Any) -> Directives:
    """The directives of a request's ``messages``."""
    return parse_directives(last_user_text(messages))
