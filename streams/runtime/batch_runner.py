"""The batch lane's timer: collect parked requests into jobs, submit them, poll them, and hand their answers back
to the pipeline. Every worker runs it; the job store's scripts and leases make each step happen once.

Each tick (``batch.tick_s``):

1. **collect**: every provider/model group whose queue is full (``batch.max_size``) or whose oldest request has
   waited ``batch.max_age_s`` becomes a recorded job (members and key in Redis) before anything is submitted;
2. **submit** recorded jobs under the job's lease and the provider's submission lease: a job found ``submitting``
   (a worker died during the provider call) is first looked for at the provider (:meth:`BatchClient.find`), and
   submitted only when the provider has no batch for it;
3. **poll** submitted jobs every ``batch.poll_interval_s``; an ended job's results are fetched and each member is
   handed to the pipeline: an answer to validation (after it is stored in the completion store, so no replay ever
   calls again), a failure back to the complete stage (interactive) or, with no time left, to settlement as
   ``batch_failed``. A member counts as delivered when its settlement is on the broker (its :class:`BatchSource`
   is acked); an ended job is handed out again, under its lease, until every member is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from agents import batch_lane
from agents.job import Job
from gateway.batch.clients import BatchClient, BatchItem, ItemResult
from gateway.batch.records import BatchEntry, JobRecord
from gateway.batch.store import BatchStore
from gateway.providers.base import Completion
from gateway.resilience.idempotency import CompletionStore, StoredCompletion
from gateway.settings import Settings

log = logging.getLogger(__name__)

Deliver = Callable[[str, Job], Awaitable[None]]
"""Put a job into an in-process stage's channel (``complete``, or the stage after it)."""


@dataclass(frozen=True, slots=True)
class _Origin:
    """The ``message`` of a :class:`BatchSource`: on no partition, so the job settles through the settle topic."""

    topic: str = "streamgate.batch"
    partition: int = -1
    offset: int = -1
    key: bytes | None = None
    timestamp: float | None = None
    headers: tuple[Any, ...] = ()


@dataclass
class BatchSource:
    """The source of a job handed back by a batch job: acking it marks the member delivered in the store."""

    runner: BatchRunner
    job_key: str
    member: str
    message: _Origin = field(default_factory=_Origin)

    def ack(self) -> None:
        """The member's settlement is on the broker."""
        self.runner.delivered(self.job_key, self.member)


class BatchRunner:
    """One worker's part of the batch lane (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        store: BatchStore,
        clients: dict[str, BatchClient],
        completions: CompletionStore | None,
        deliver: Deliver,
    ) -> None:
        self._settings = settings.batch
        self._all_settings = settings
        self._store = store
        self._clients = clients
        self._completions = completions
        self._deliver = deliver
        # (job, request) -> when this worker handed it to the pipeline; handed again only if not settled long after
        self._handed: dict[tuple[str, str], float] = {}
        self._hand_again_s = settings.resilience.max_request_s + settings.batch.lease_s
        self._tasks: set[asyncio.Future[Any]] = set()

    async def tick(self) -> None:
        """One round of collect, submit and poll; failures are logged and retried next tick."""
        try:
            await self._collect()
            for job in await self._store.open_jobs():
                await self._advance(job)
        except (RedisError, OSError) as exc:
            log.warning("batch lane: Redis unavailable, retrying next tick: %s", exc)
        except Exception:
            log.exception("batch lane tick failed")

    async def _collect(self) -> None:
        now_ms = int(time.time() * 1000)
        for group in await self._store.groups():
            while True:
                job = await self._store.form(
                    group,
                    max_size=self._settings.max_size,
                    max_age_ms=int(self._settings.max_age_s * 1000),
                    now_ms=now_ms,
                )
                if job is None:
                    break
                log.info("batch job %s recorded: %s %s x%d", job.key, job.provider, job.model, job.size)

    async def _advance(self, job: JobRecord) -> None:
        client = self._clients.get(job.provider)
        if client is None:
            log.error("batch job %s: no batch client for provider %r", job.key, job.provider)
            return
        now_ms = int(time.time() * 1000)
        if job.state in ("recorded", "submitting"):
            await self._leased(f"job:{job.key}", lambda: self._submit(job, client))
        elif job.state == "submitted" and now_ms - (job.polled_ms or 0) >= self._settings.poll_interval_s * 1000:
            await self._leased(f"job:{job.key}", lambda: self._poll(job, client))
        elif job.state == "ended" and now_ms - (job.polled_ms or 0) >= self._settings.lease_s * 1000:
            await self._leased(f"job:{job.key}", lambda: self._hand_out(job, client))

    async def _leased(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        leases = self._store.leases
        if not await leases.claim(name):
            return
        try:
            await work()
        except (RedisError, OSError):
            raise
        except Exception:
            log.exception("batch lane: %s failed; retried next tick", name)
        finally:
            await leases.release(name)

    async def _submit(self, job: JobRecord, client: BatchClient) -> None:
        # One submission per provider at a time: a batch found after a crash is then unambiguously the job's own.
        await self._leased(f"submit:{job.provider}", lambda: self._submit_exclusively(job, client))

    async def _submit_exclusively(self, job: JobRecord, client: BatchClient) -> None:
        entries = await self._store.entries(job)
        items = [BatchItem(entries[rid].custom_id, batch_lane.call_of(entries[rid])) for rid in job.members
                 if rid in entries]  # fmt: skip
        for lost in sorted(set(job.members) - set(entries)):
            log.error("batch job %s: request %s expired from the store before submission", job.key, lost)
            await self._store.mark_delivered(job.key, lost)
        if not items:
            return
        batch_id = None
        if job.state == "submitting" and job.submitting_ms is not None:
            taken = await self._store.known_batch_ids()
            batch_id = await client.find(job.key, len(items), job.submitting_ms, taken)
            if batch_id is not None:
                log.info("batch job %s: found its provider batch %s (no second submission)", job.key, batch_id)
        if batch_id is None:
            submitting = job.model_copy(update={"state": "submitting", "submitting_ms": int(time.time() * 1000)})
            if not await self._store.update(submitting):
                return
            batch_id = await client.submit(job.key, items)
            log.info("batch job %s submitted as %s (%d requests)", job.key, batch_id, len(items))
        await self._store.record_batch_id(batch_id)
        await self._store.update(job.model_copy(update={"state": "submitted", "batch_id": batch_id}))

    async def _poll(self, job: JobRecord, client: BatchClient) -> None:
        assert job.batch_id is not None
        status = await client.status(job.batch_id)
        now_ms = int(time.time() * 1000)
        polled = job.model_copy(update={"polled_ms": now_ms, "provider_status": status.status})
        if not status.ended:
            await self._store.update(polled)
            return
        ended = polled.model_copy(update={"state": "ended"})
        await self._store.update(ended)
        await self._hand_out(ended, client)

    async def _hand_out(self, job: JobRecord, client: BatchClient) -> None:
        """Hand every member not yet delivered (nor in flight here) back to the pipeline."""
        assert job.batch_id is not None
        await self._store.update(job.model_copy(update={"polled_ms": int(time.time() * 1000)}))
        delivered = await self._store.delivered(job.key)
        entries = await self._store.entries(job)
        now = time.monotonic()
        pending = [entries[rid] for rid in job.members if rid in entries and rid not in delivered
                   and now - self._handed.get((job.key, rid), -1e18) > self._hand_again_s]  # fmt: skip
        if not pending:
            return
        results = {r.custom_id: r for r in await client.results(job.batch_id, self._calls(entries.values()))}
        now_ms = int(time.time() * 1000)
        for entry in pending:
            item = results.get(entry.custom_id) or ItemResult(entry.custom_id, failure="errored", detail="no result")
            job_ = batch_lane.job_from(entry, job.key, BatchSource(self, job.key, entry.member))
            if item.completion is not None:
                await self._remember(entry, job_, item.completion)
                stage = "after_complete"
                job_ = batch_lane.answered(job_, item.completion, float(now_ms - entry.enqueued_ms))
            else:
                job_ = batch_lane.after_failure(job_, item, self._all_settings, now_ms)
                stage = "after_complete" if job_.finished else "complete"
            self._handed[(job.key, entry.member)] = time.monotonic()
            await self._deliver(stage, job_)

    @staticmethod
    def _calls(entries: Any) -> dict[str, Any]:
        return {entry.custom_id: batch_lane.call_of(entry) for entry in entries}

    async def _remember(self, entry: BatchEntry, job: Job, completion: Completion) -> None:
        """Store the answer under the request's completion key first: a replayed admit event or a duplicate
        publish never calls again."""
        if self._completions is None or job.route is None:
            return
        link = job.route.primary
        stored = StoredCompletion(
            provider=completion.provider, model=link.model, upstream_model=completion.model, text=completion.text,
            input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
            finish_reason=completion.finish_reason, cached_input_tokens=completion.cached_input_tokens,
            cache_write_tokens=completion.cache_write_tokens, reasoning_tokens=completion.reasoning_tokens,
        )  # fmt: skip
        try:
            await self._completions.put(entry.member, stored)
        except (RedisError, OSError) as exc:
            log.warning("could not store the batch answer of %s: %s", entry.request_id, exc)

    def delivered(self, job_key: str, member: str) -> None:
        """Mark a member delivered (called when its settlement is on the broker)."""

        async def mark() -> None:
            try:
                if await self._store.mark_delivered(job_key, member):
                    log.info("batch job %s: every request answered, closed", job_key)
            except (RedisError, OSError) as exc:  # handed out again later: a duplicate answer, never a lost one
                log.warning("could not mark %s delivered in batch job %s: %s", member, job_key, exc)
            finally:
                self._handed.pop((job_key, member), None)

        task = asyncio.ensure_future(mark())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
