"""The request event a client publishes to ``llm.requests``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONTRACT_VERSION = 1

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
REQUEST_ID_PATTERN = _ID_PATTERN
"""What a request id may look like (public: a front door checks ids it is asked about before echoing them)."""
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,127}$"


class ChatMessage(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["user", "assistant", "system"]
    content: str


class CachePolicy(BaseModel):
    """How the response cache treats this request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["default", "bypass", "semantic"] = Field(
        default="default",
        description="default: the exact cache (and the semantic cache if the tenant's policy enables it); "
        "bypass: neither read nor write; semantic: the exact cache first, then the semantic cache.",
    )
    ttl_s: int | None = Field(
        default=None, ge=1, le=30 * 24 * 3600, description="Shortens the policy's TTL for this answer (never extends)."
    )


class PromptRef(BaseModel):
    """A named, versioned prompt template from the gateway's registry, and the values of its variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
    version: str | None = Field(
        default=None,
        pattern=r"^(latest|[0-9]{1,9})$",
        description="A version number, or `latest` / omitted: the configured A/B split, else the newest.",
    )
    variables: dict[str, str] = Field(default_factory=dict)


class LLMRequest(BaseModel):
    """An LLM request. ``id`` is chosen by the client and is also the idempotency key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    id: str = Field(pattern=_ID_PATTERN, description="Client-chosen id; also the idempotency key.")
    tenant: str = Field(pattern=_NAME_PATTERN)
    user: str = Field(pattern=_NAME_PATTERN)
    messages: list[ChatMessage] = Field(
        default_factory=list, description="Chat turns; may be empty when `prompt` supplies the first turn."
    )
    prompt: PromptRef | None = Field(
        default=None, description="A registry prompt rendered into the system prompt and a first user turn."
    )
    system: str | None = None
    model: str | None = Field(default=None, description="Explicit model or alias; default from config.")
    task: str = Field(default="general", max_length=64, description="Task type used for routing.")
    max_tokens: int = Field(default=512, ge=1, le=200_000)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0, description="Nucleus sampling (passed to the provider).")
    stop: list[str] | None = Field(
        default=None, max_length=4, description="Up to 4 stop sequences (passed to the provider)."
    )
    seed: int | None = Field(default=None, description="Sampling seed, where the provider supports one.")
    response_format: dict[str, Any] | None = Field(
        default=None, description="JSON schema the output must satisfy; the result then carries `parsed`."
    )
    cache: CachePolicy = Field(default_factory=CachePolicy)
    reply_to: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._\-]{1,249}$",
        description="Topic for the result; default: the gateway's results topic (llm.results). Must be an existing "
        "topic allowed by the gateway's reply-topic settings (by default llm.results or llm.results.*), else the "
        "request is rejected with invalid_request on the results topic.",
    )
    deadline_ms: int | None = Field(default=None, description="Epoch ms after which the request must not be served.")
    lane: Literal["interactive", "batch"] = Field(
        default="interactive",
        description="interactive: served at once; batch: may wait (until deadline_ms) to go through the provider's "
        "batch API at its batch price. A batch request passes every stage (a cache hit answers at once).",
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free dict, echoed back on the result.")
    stream: bool = Field(
        default=False,
        description="Stream the answer: chunk events (`type: chunk`, see schemas/chunk.py) on `reply_to`, keyed by "
        "`id`, before the result.",
    )

    @model_validator(mode="after")
    def _has_a_prompt(self) -> LLMRequest:
        if not self.messages and self.prompt is None:
            raise ValueError("a request needs `messages`, a `prompt`, or both")
        return self
