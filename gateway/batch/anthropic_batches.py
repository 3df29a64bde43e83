"""Anthropic's Message Batches through the official SDK (``messages.batches``).

A message batch carries no client metadata, so finding one after a crash relies on two facts the store makes true:
submissions to one provider are serialised by a lease (:mod:`streams.runtime.batch_runner`), and every batch id a
job recorded is remembered. A batch created after the job started submitting, of the job's size, and recorded by
no job, is then the job's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anthropic

from gateway.batch.clients import BatchItem, BatchStatus, ItemResult, missing_results
from gateway.errors import ProviderError
from gateway.providers._common import PLACEHOLDER_API_KEY, resolve_api_key
from gateway.providers.anthropic_provider import ANTHROPIC_DEFAULT_BASE_URL, AnthropicProvider, request_body
from gateway.providers.base import CompletionCall

_SKEW_MS = 5_000  # clocks of the gateway and the provider may differ by this much


class AnthropicBatches:
    """:class:`~gateway.batch.clients.BatchClient` for Anthropic."""

    provider = "anthropic"

    def __init__(self, *, api_key: str | None, base_url: str | None) -> None:
        key = resolve_api_key(api_key, base_url) or PLACEHOLDER_API_KEY  # calls then fail as unauthorised
        self._client = anthropic.AsyncAnthropic(
            api_key=key, base_url=base_url or ANTHROPIC_DEFAULT_BASE_URL, max_retries=2
        )
        self._reader = AnthropicProvider(name=self.provider)  # no credentials: only reads answers

    async def submit(self, job_key: str, items: Sequence[BatchItem]) -> str:
        """Create the message batch (the job key is not sent: the API has no field for it)."""
        requests = [{"custom_id": i.custom_id, "params": request_body(i.call)} for i in items]
        batch = await self._client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        return batch.id

    async def find(self, job_key: str, size: int, since_ms: int, taken: set[str]) -> str | None:
        """The newest batch created since ``since_ms`` with ``size`` requests that no job recorded."""
        async for batch in self._client.messages.batches.list(limit=100):
            if batch.created_at.timestamp() * 1000 < since_ms - _SKEW_MS:
                return None
            counts = batch.request_counts
            total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if batch.id not in taken and total == size:
                return batch.id
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        """``ended`` once the provider says so (results are then readable)."""
        batch = await self._client.messages.batches.retrieve(batch_id)
        return BatchStatus(ended=batch.processing_status == "ended", status=batch.processing_status)

    async def results(self, batch_id: str, calls: Mapping[str, CompletionCall]) -> list[ItemResult]:
        """Every result line: ``succeeded`` answers are read by the Messages adapter; the rest failed."""
        found: list[ItemResult] = []
        async for line in await self._client.messages.batches.results(batch_id):
            result = line.result
            call = calls.get(line.custom_id)
            if result.type == "succeeded" and call is not None:
                try:
                    completion = self._reader.completion_from(call, result.message.model_dump(mode="json"))
                except ProviderError as exc:
                    found.append(ItemResult(line.custom_id, failure="errored", detail=str(exc)))
                    continue
                found.append(ItemResult(line.custom_id, completion=completion))
            elif result.type == "expired":
                found.append(ItemResult(line.custom_id, failure="expired"))
            elif result.type == "canceled":
                found.append(ItemResult(line.custom_id, failure="canceled"))
            else:
                found.append(ItemResult(line.custom_id, failure="errored", detail=str(getattr(result, "error", ""))))
        return missing_results(calls, found, "errored")

    async def aclose(self) -> None:
        """Close the SDK client."""
        await self._client.close()
