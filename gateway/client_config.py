"""Settings of the client side: the Python SDK (``[client]``) and the HTTP front door (``[serve]``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ClientSettings(BaseModel):
    """How :class:`streamgate.Client` waits for and receives its results (``[client]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(
        default=60.0, gt=0, description="Default wait for a result; also the request's deadline_ms (from now)."
    )
    deadline_grace_s: float = Field(
        default=2.0,
        ge=0,
        description="Extra wait past the deadline for the gateway's own deadline_exceeded answer before the client "
        "gives up itself.",
    )
    reply_topic: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._\-]{1,249}$",
        description="This instance's reply topic (created if missing, kept at close); default: a new topic "
        "<topics.reply_topic_prefix>client-<random> per instance, deleted at close.",
    )
    reply_topic_partitions: int = Field(default=1, ge=1, description="Partitions of a reply topic the client creates.")


class ServeSettings(BaseModel):
    """The HTTP front door, ``streamgate serve`` (``[serve]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address to bind (0.0.0.0 in containers).")
    port: int = Field(default=8080, ge=0, le=65535)
    keys_file: Path = Field(default=Path("keys.toml"), description="API keys (their SHA-256 only) -> tenant, user.")
    request_timeout_s: float = Field(
        default=120.0, gt=0, description="Deadline of a request answered on its connection (504 deadline_exceeded)."
    )
    async_timeout_s: float = Field(
        default=3600.0, gt=0, description="Deadline of a request sent with `Prefer: respond-async`."
    )
    async_result_ttl_s: int = Field(
        default=3600, ge=1, description="How long GET /v1/requests/{id} keeps a finished async result (Redis TTL)."
    )
