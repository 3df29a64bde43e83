"""Structured JSON logs: one object per line with the request id, tenant and stage of the request being handled.

The request fields come from a context variable (:func:`request_context`) that the pipeline sets around each stage,
so every log line written while serving a request carries them, whichever module logs. Prompts and outputs are
never logged, unless ``logging.debug_payloads`` is on: then :func:`payload_fields` gives them PII-redacted, through
the :data:`Redactor` hook (a simple pattern redactor by default; a guard's redactor can be plugged in).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.settings import LogSettings

Redactor = Callable[[str], str]

_REQUEST: ContextVar[tuple[str, str, str] | None] = ContextVar("streamgate_request", default=None)
_PII = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "<card>"),
    (re.compile(r"\+?\d[\d ().-]{7,}\d"), "<phone>"),
)


@contextlib.contextmanager
def request_context(request_id: str, tenant: str, stage: str) -> Iterator[None]:
    """Tag every log record written inside the block with this request."""
    token = _REQUEST.set((request_id, tenant, stage))
    try:
        yield
    finally:
        _REQUEST.reset(token)


def redact_patterns(text: str) -> str:
    """The default :data:`Redactor`: e-mail addresses, card-like and phone-like numbers replaced by placeholders."""
    for pattern, placeholder in _PII:
        text = pattern.sub(placeholder, text)
    return text


def payload_fields(
    settings: LogSettings, *, prompt: str | None, output: str | None, redact: Redactor = redact_patterns
) -> dict[str, str]:
    """Log ``extra`` fields with the prompt and output: empty unless ``debug_payloads`` is on, redacted if it is."""
    if not settings.debug_payloads:
        return {}
    fields = {"prompt": prompt, "output": output}
    return {k: redact(v) for k, v in fields.items() if v is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, request_id/tenant/stage when known, extras, exc."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = _REQUEST.get()
        if current is not None:
            doc["request_id"], doc["tenant"], doc["stage"] = current
        for key, value in record.__dict__.items():  # extras (they may name the request explicitly)
            if key not in self._STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def logging_config(settings: LogSettings) -> dict[str, Any] | None:
    """A ``logging.config`` overlay for the Faust worker (mode merges it): JSON lines on its stream handler."""
    if not settings.json_format:
        return None
    return {"merge": True, "version": 1, "formatters": {"colored": {"()": JsonFormatter}}}
