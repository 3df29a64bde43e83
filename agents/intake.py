"""Intake: turn the bytes a client published into a validated request, or say precisely why not.

Decoding happens once, here; events that fail go to the dead-letter topic with the reason, and when the bad event
still names a usable ``id`` the client also gets a ``rejected``/``invalid_request`` result so it is not left waiting.
"""

from __future__ import annotations

import re

import orjson
from pydantic import ValidationError

from gateway.errors import StreamgateError
from gateway.settings import GuardSettings
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo, LLMResult

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
_TOPIC_RE = re.compile(r"^[A-Za-z0-9._\-]{1,249}$")


class InvalidEvent(StreamgateError):
    """An input event that is not a valid request (code ``invalid_request``).

    ``reason`` is a stable, machine-readable word (``empty``, ``not_json``, ``not_object``, ``schema``,
    ``too_large``, which carries the code ``payload_too_large`` and the ``limit`` that tripped);
    ``request_id``/``reply_to`` are filled when the event still names them, so the client can be answered.
    """

    code = ErrorCode.INVALID_REQUEST

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        request_id: str | None = None,
        reply_to: str | None = None,
        code: ErrorCode | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(detail, code=code)
        self.reason = reason
        self.detail = detail
        self.request_id = request_id
        self.reply_to = reply_to
        self.limit = limit


DEFAULT_MAX_JSON_DEPTH = GuardSettings().max_json_depth


def parse_request(raw: bytes | None, *, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> LLMRequest:
    """Decode and validate one request event; raises :class:`InvalidEvent`.

    A document nested deeper than ``max_depth`` (``guards.max_json_depth``) is refused before validation: every
    layer that walks it (validation, JSON-schema checks of ``response_format``, re-encoding) recurses.
    """
    if not raw:
        raise InvalidEvent("empty", "the event has no value")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("not_json", f"value is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidEvent("not_object", f"value is JSON {type(document).__name__}, expected an object")
    if nested_deeper_than(document, max_depth):
        raise InvalidEvent(
            "too_large",
            f"the document is nested deeper than {max_depth} levels",
            request_id=_usable(document.get("id"), _ID_RE),
            reply_to=_usable(document.get("reply_to"), _TOPIC_RE),
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            limit="intake.max_json_depth",
        )
    try:
        return LLMRequest.model_validate(document)
    except ValidationError as exc:
        raise InvalidEvent(
            "schema",
            _summarise(exc),
            request_id=_usable(document.get("id"), _ID_RE),
            reply_to=_usable(document.get("reply_to"), _TOPIC_RE),
        ) from None


def nested_deeper_than(document: object, limit: int) -> bool:
    """Whether ``document`` (decoded JSON) has arrays/objects nested more than ``limit`` deep (the top level is 1).

    Iterative, so a hostile document cannot exhaust the interpreter's stack here.
    """
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def check_bounds(request: LLMRequest, raw_size: int, limits: GuardSettings) -> None:
    """Refuse (:class:`InvalidEvent` ``too_large``) a request too big to carry through the pipeline.

    Checked at intake, before the request is forwarded: an event over ``max_request_bytes`` would not fit in the
    internal topics' records, and a result echoes ``metadata`` back, so bounding it keeps every result sendable.
    """
    if raw_size > limits.max_request_bytes:
        _too_large(request, f"request is {raw_size} bytes", "max_request_bytes", limits.max_request_bytes)
    metadata_size = len(orjson.dumps(request.metadata))
    if metadata_size > limits.max_metadata_bytes:
        _too_large(request, f"metadata is {metadata_size} bytes", "max_metadata_bytes", limits.max_metadata_bytes)


def unbound_rejection(request: LLMRequest, code: ErrorCode) -> tuple[bytes, bytes]:
    """``(key, value)`` of the ``rejected`` result of a request the tenant binding refused (``code``)."""
    why = {
        ErrorCode.UNAUTHENTICATED: f"the request is not signed with a key of tenant {request.tenant!r}",
        ErrorCode.TENANT_FORBIDDEN: f"the request is signed by another tenant than {request.tenant!r}",
    }[code]
    result = LLMResult(
        id=request.id, status="rejected", error=ErrorInfo(code=code, message=why, limit="tenant_binding")
    )
    return request.id.encode(), result.model_dump_json().encode()


def _too_large(request: LLMRequest, what: str, rule: str, limit: int) -> None:
    raise InvalidEvent(
        "too_large",
        f"{what}; the limit is {limit}",
        request_id=request.id,
        reply_to=request.reply_to,
        code=ErrorCode.PAYLOAD_TOO_LARGE,
        limit=f"intake.{rule}",
    )


def _summarise(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _usable(value: object, pattern: re.Pattern[str]) -> str | None:
    # fullmatch: with re.match, ``$`` also matches before a trailing newline, which the schema's pattern rejects.
    return value if isinstance(value, str) and pattern.fullmatch(value) else None
