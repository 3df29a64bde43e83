"""The interface every provider batch API implements, and the one explicit map of them.

A client submits a job's calls as one provider batch, finds a batch it submitted before (after a crash between the
provider's answer and the job store's record of it), reads a batch's status and its results. Results come back as
:class:`~gateway.providers.base.Completion` objects read by the provider's own adapter, so a batch answer is
parsed and counted exactly like an interactive one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from gateway.providers.base import Completion, CompletionCall
from gateway.settings import Settings

Failure = Literal["errored", "expired", "canceled"]
JOB_METADATA_KEY = "streamgate_job"


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One request of a job: its ``custom_id`` in the provider batch and the call to make."""

    custom_id: str
    call: CompletionCall


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one request in an ended batch: a completion, or why there is none."""

    custom_id: str
    completion: Completion | None = None
    failure: Failure | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """A provider batch's state: ``ended`` once its results can be read (or it failed as a whole)."""

    ended: bool
    status: str


class BatchClient(Protocol):
    """A provider's batch API through its official SDK."""

    provider: str

    async def submit(self, job_key: str, items: Sequence[BatchItem]) -> str:
        """Create one provider batch of ``items`` labelled with ``job_key``; its provider batch id."""
        ...

    async def find(self, job_key: str, size: int, since_ms: int, taken: set[str]) -> str | None:
        """The id of a batch submitted for ``job_key`` since ``since_ms`` (not one of ``taken``), if there is one."""
        ...

    async def status(self, batch_id: str) -> BatchStatus:
        """The batch's current status."""
        ...

    async def results(self, batch_id: str, calls: Mapping[str, CompletionCall]) -> list[ItemResult]:
        """Every result of an ended batch (``calls`` by custom id: to read each answer); missing ones failed."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def build_batch_clients(settings: Settings) -> dict[str, BatchClient]:
    """A batch client per provider that has one (same credentials and base URLs as the interactive adapters)."""
    return {name: build(settings) for name, build in BATCH_CLIENT_FACTORIES.items()}


def _openai(settings: Settings) -> BatchClient:
    from gateway.batch.openai_batches import OpenAIBatches

    key = settings.openai_api_key
    return OpenAIBatches(api_key=key.get_secret_value() if key else None, base_url=settings.openai_base_url)


def _anthropic(settings: Settings) -> BatchClient:
    from gateway.batch.anthropic_batches import AnthropicBatches

    key = settings.anthropic_api_key
    return AnthropicBatches(api_key=key.get_secret_value() if key else None, base_url=settings.anthropic_base_url)


BATCH_CLIENT_FACTORIES: dict[str, Callable[[Settings], BatchClient]] = {"openai": _openai, "anthropic": _anthropic}
"""Every provider with a batch API, by the provider name of the catalog."""

BATCH_PROVIDERS = frozenset(BATCH_CLIENT_FACTORIES)


def missing_results(calls: Mapping[str, CompletionCall], found: Sequence[ItemResult], why: Failure) -> list[ItemResult]:
    """``found`` plus a ``why`` failure for every custom id the provider returned nothing for."""
    seen = {item.custom_id for item in found}
    return [*found, *(ItemResult(cid, failure=why, detail="no result") for cid in calls if cid not in seen)]
