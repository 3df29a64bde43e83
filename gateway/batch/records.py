"""What the batch store keeps: a parked request (:class:`BatchEntry`) and a batch job (:class:`JobRecord`)."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.request_keys import request_key

JobState = Literal["recorded", "submitting", "submitted", "ended"]
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def custom_id_for(member: str) -> str:
    """The ``custom_id`` of a member (:attr:`BatchEntry.member`) in a provider batch: the key itself when both
    providers accept it (Anthropic allows ``[A-Za-z0-9_-]{1,64}``), else a digest of it (``sg-`` + 40 hex
    digits); unique within a job."""
    if _CUSTOM_ID.match(member):
        return member
    return "sg-" + hashlib.sha256(member.encode()).hexdigest()[:40]


def group_of(provider: str, model: str) -> str:
    """The collection group of a provider and catalog model (one job collects one group)."""
    return f"{provider}|{model}"


class BatchEntry(BaseModel):
    """One parked request: where it goes, the provider call to make, and the opaque job the lane rebuilds."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    tenant: str
    provider: str
    model: str = Field(description="Catalog model name.")
    custom_id: str
    call: dict[str, Any] = Field(description="The provider-neutral call (gateway.providers.base.CompletionCall).")
    payload: dict[str, Any] = Field(description="What agents.batch_lane needs to rebuild the job.")
    enqueued_ms: int
    deadline_ms: int | None = None

    @property
    def member(self) -> str:
        """The entry's key in its job (:func:`gateway.request_keys.request_key`: two tenants may use one id)."""
        return request_key(self.tenant, self.request_id)

    @property
    def group(self) -> str:
        """The entry's collection group."""
        return group_of(self.provider, self.model)


class JobRecord(BaseModel):
    """One batch job: recorded with its members before submission, then the provider's batch id."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="The gateway's job id: recorded before submission, sent as the batch's metadata.")
    provider: str
    model: str
    state: JobState
    members: list[str] = Field(description="Members' keys (tenant|request id), in submission order.")
    created_ms: int
    submitting_ms: int | None = None
    batch_id: str | None = Field(default=None, description="The provider's batch id once known.")
    polled_ms: int | None = None
    provider_status: str | None = None
    done: int = Field(default=0, description="Members whose answer is on the broker.")

    @property
    def size(self) -> int:
        """Requests in the job."""
        return len(self.members)
