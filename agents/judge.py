"""Judge an answer for a cascade: is it good enough, or should a stronger model try?

An answer fails when it is empty, reads as a refusal, fails the request's JSON schema, or fails the task's
configured :class:`gateway.routing.config.OutputCheck` (minimum length, a regex, must parse as JSON).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from agents.validate import check_output
from gateway.routing.config import OutputCheck

OK = "ok"
# Openings of a refusal, looked for at the start of the answer only (a refusal does not hide mid-text).
_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry, (but )?i|i can(no|')t (help|assist|comply|do that|provide)|"
    r"i am (unable|not able) to|i'?m (unable|not able) to|i won'?t be able to|as an ai\b)",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def is_refusal(text: str) -> bool:
    """Whether ``text`` opens like a model declining the task."""
    return _REFUSAL.search(text[:200]) is not None


def judge_answer(text: str, schema: dict[str, Any] | None, check: OutputCheck | None) -> tuple[str, Any]:
    """``("ok", parsed)`` for a good answer (``parsed`` is None without a schema), else ``(why, None)``."""
    if not text.strip():
        return "empty", None
    if is_refusal(text):
        return "refusal", None
    parsed: Any = None
    if schema is not None:
        parsed, why = check_output(text, schema)
        if why is not None:
            return "output_invalid", None
    if check is not None:
        if len(text.strip()) < check.min_chars:
            return "too_short", None
        if check.regex is not None and _compiled(check.regex).search(text) is None:
            return "check_failed", None
        if check.must_parse == "json":
            try:
                orjson.loads(text)
            except orjson.JSONDecodeError:
                return "not_json", None
    return OK, parsed
