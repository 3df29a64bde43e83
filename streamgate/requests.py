"""Turning what a caller passes to the SDK (a text, chat turns, or a whole request) into one :class:`LLMRequest`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from schemas.request import LLMRequest
from streamgate.errors import InvalidClientRequest

Prompt = str | Sequence[Mapping[str, Any]] | LLMRequest
"""A user message, a list of chat turns (``{"role", "content"}``), or a complete request."""


def new_request_id(prefix: str = "sdk") -> str:
    """A unique request id."""
    return f"{prefix}-{uuid.uuid4().hex}"


def build_request(
    prompt: Prompt,
    *,
    tenant: str | None,
    user: str | None,
    reply_to: str,
    deadline_ms: int,
    fields: Mapping[str, Any],
) -> LLMRequest:
    """The request to publish: ``reply_to`` is always the client's; ``deadline_ms`` unless the request has one.

    ``fields`` are any other :class:`LLMRequest` fields (``id``, ``model``, ``max_tokens``, ``metadata``, ...);
    a missing ``id`` gets a new one, a missing ``tenant``/``user`` the client's. Raises
    :class:`InvalidClientRequest` when they do not make a valid request.
    """
    if isinstance(prompt, LLMRequest):
        update: dict[str, Any] = {"reply_to": reply_to, **fields}
        if prompt.deadline_ms is None and "deadline_ms" not in fields:
            update["deadline_ms"] = deadline_ms
        return _validated(prompt.model_dump(exclude_none=True) | update)
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else [dict(m) for m in prompt]
    doc: dict[str, Any] = {
        "id": new_request_id(),
        "tenant": tenant,
        "user": user,
        "messages": messages,
        "deadline_ms": deadline_ms,
        **fields,
        "reply_to": reply_to,
    }
    return _validated({key: value for key, value in doc.items() if value is not None})


def _validated(doc: dict[str, Any]) -> LLMRequest:
    try:
        return LLMRequest.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}" for e in exc.errors())
        raise InvalidClientRequest(f"invalid request: {problems}") from exc
