"""OpenAI's Batch API through the official SDK: an input file of chat-completion lines, then ``batches.create``.

The job key is the batch's ``metadata.streamgate_job``, so a worker that crashed after creating a batch but before
recording its id finds it again (``batches.list``, newest first) instead of submitting twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import openai
import orjson

from gateway.batch.clients import JOB_METADATA_KEY, BatchItem, BatchStatus, Failure, ItemResult, missing_results
from gateway.errors import ProviderError
from gateway.providers._common import PLACEHOLDER_API_KEY, resolve_api_key
from gateway.providers.base import CompletionCall
from gateway.providers.openai_provider import OPENAI_DEFAULT_BASE_URL, OpenAIProvider, request_body

ENDPOINT: Final = "/v1/chat/completions"
_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
_LOOKBACK_MS = 60_000  # a batch created this long before the recorded submission start is not ours


class OpenAIBatches:
    """:class:`~gateway.batch.clients.BatchClient` for OpenAI (and OpenAI-compatible batch APIs)."""

    provider = "openai"

    def __init__(self, *, api_key: str | None, base_url: str | None) -> None:
        key = resolve_api_key(api_key, base_url) or PLACEHOLDER_API_KEY  # calls then fail as unauthorised
        self._client = openai.AsyncOpenAI(api_key=key, base_url=base_url or OPENAI_DEFAULT_BASE_URL, max_retries=2)
        self._reader = OpenAIProvider(name=self.provider)  # no credentials: only reads answers

    async def submit(self, job_key: str, items: Sequence[BatchItem]) -> str:
        """Upload the input file and create the batch (24 h window) labelled with ``job_key``."""
        lines = b"".join(
            orjson.dumps({"custom_id": i.custom_id, "method": "POST", "url": ENDPOINT, "body": request_body(i.call)})
            + b"\n"
            for i in items
        )
        upload = await self._client.files.create(file=(f"{job_key}.jsonl", lines), purpose="batch")
        batch = await self._client.batches.create(
            input_file_id=upload.id,
            endpoint=ENDPOINT,
            completion_window="24h",
            metadata={JOB_METADATA_KEY: job_key},
        )
        return batch.id

    async def find(self, job_key: str, size: int, since_ms: int, taken: set[str]) -> str | None:
        """The batch whose metadata names ``job_key`` (exact: OpenAI keeps the metadata we sent)."""
        async for batch in self._client.batches.list(limit=100):
            if batch.created_at * 1000 < since_ms - _LOOKBACK_MS:
                return None
            if batch.id not in taken and (batch.metadata or {}).get(JOB_METADATA_KEY) == job_key:
                return batch.id
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        """``ended`` once completed, failed, expired or cancelled."""
        batch = await self._client.batches.retrieve(batch_id)
        return BatchStatus(ended=batch.status in _ENDED, status=batch.status)

    async def results(self, batch_id: str, calls: Mapping[str, CompletionCall]) -> list[ItemResult]:
        """Read the output and error files; requests in neither failed with the batch's own status."""
        batch = await self._client.batches.retrieve(batch_id)
        found: list[ItemResult] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._client.files.content(file_id)
            for line in content.content.splitlines():
                if line.strip():
                    found.append(self._item(orjson.loads(line), calls))
        why: Failure = (
            "expired" if batch.status == "expired" else "canceled" if batch.status == "cancelled" else "errored"
        )
        return missing_results(calls, found, why)

    def _item(self, line: dict[str, object], calls: Mapping[str, CompletionCall]) -> ItemResult:
        custom_id = str(line.get("custom_id"))
        response = line.get("response")
        call = calls.get(custom_id)
        if isinstance(response, dict) and response.get("status_code") == 200 and call is not None:
            try:
                return ItemResult(custom_id, completion=self._reader.completion_from(call, response.get("body")))
            except ProviderError as exc:
                return ItemResult(custom_id, failure="errored", detail=str(exc))
        error = line.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return ItemResult(custom_id, failure="expired" if code == "batch_expired" else "errored", detail=str(error))

    async def aclose(self) -> None:
        """Close the SDK client."""
        await self._client.close()
