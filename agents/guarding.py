"""Content and output guarding: plain functions over the configured guards and the tenant's policy.

Content guards run where requests arrive (intake), before admission, so the single table-writing screen actor
only applies the cheap admission guards and a block decided here. What they decided travels with the request:
in process when it is screened directly, else in the admit event's ``sg-guards`` header (:class:`GuardState`).
The restore map (placeholder -> the client's value) is only kept when the tenant's ``pii_restore`` is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from agents.job import Job
from gateway.guard_policy import GuardPolicy
from gateway.settings import GuardSettings
from guards.base import Block, Guard, GuardInput
from guards.pii.redact import restore
from schemas.internal import GuardState
from schemas.request import LLMRequest
from schemas.result import ErrorInfo, GuardVerdict


def block_error(guard: str, block: Block) -> ErrorInfo:
    """The result error of a block: its code, and the guard and rule in ``limit`` and ``details``."""
    return ErrorInfo(
        code=block.code,
        message=block.message,
        limit=f"{guard}.{block.rule}",
        details=[{"guard": guard, "rule": block.rule}],
    )


@dataclass(frozen=True, slots=True)
class Screened:
    """A request after the content guards: possibly rewritten, with their verdicts and any block."""

    request: LLMRequest
    state: GuardState


@dataclass
class Guarding:
    """The content and output guards of a worker and the per-tenant policies (looked up once per tenant)."""

    settings: GuardSettings
    content: Sequence[Guard]
    output: Sequence[Guard]
    _policies: dict[str, GuardPolicy] = field(default_factory=dict)

    def policy(self, tenant: str) -> GuardPolicy:
        """The tenant's policy."""
        found = self._policies.get(tenant)
        if found is None:
            found = self._policies[tenant] = self.settings.policy_for(tenant)
        return found

    def screen(self, request: LLMRequest, raw_size: int) -> Screened:
        """Run the content guards in order; each sees the request as the previous one left it; stop at a block."""
        policy = self.policy(request.tenant)
        verdicts: list[GuardVerdict] = []
        pairs: list[tuple[str, str]] = []
        for guard in self.content:
            verdict = guard.check(GuardInput(request=request, raw_size=raw_size, policy=policy))
            if verdict.action == "pass" and verdict.score is None:
                continue
            verdicts.append(verdict.public(guard.name))
            if verdict.request is not None:
                request = verdict.request
            if policy.pii_restore:
                pairs.extend(verdict.restore)
            if verdict.block is not None:
                return Screened(request, GuardState(verdicts=verdicts, error=block_error(guard.name, verdict.block)))
        return Screened(request, GuardState(verdicts=verdicts, restore=pairs))

    def finish_output(self, job: Job, *, fresh: bool) -> Job:
        """Redact a fresh answer (before it is cached), or restore the client's values (just before delivery).

        An output guard's block (``pii_output = "block"``) turns the job into an ``error`` with the block's code.
        """
        if job.status != "ok" or job.output is None:
            return job
        if not fresh:
            return _restored(job)
        policy = self.policy(job.request.tenant)
        output, verdicts = job.output, list(job.guards)
        for guard in self.output:
            verdict = guard.check(GuardInput(request=job.request, raw_size=0, policy=policy, output=output))
            if verdict.action == "pass":
                continue
            verdicts.append(verdict.public(guard.name))
            if verdict.block is not None:
                refused = job.evolve(output=None, parsed=None, guards=tuple(verdicts))
                return refused.fail(block_error(guard.name, verdict.block))
            output = verdict.output if verdict.output is not None else output
        if output == job.output:
            return job.evolve(guards=tuple(verdicts))
        return job.evolve(output=output, parsed=_reparsed(job, output), guards=tuple(verdicts))


def _restored(job: Job) -> Job:
    if not job.restore or job.output is None:
        return job
    output = restore(job.output, job.restore)
    return job if output == job.output else job.evolve(output=output, parsed=_reparsed(job, output))


def _reparsed(job: Job, output: str) -> object:
    if job.parsed is None:
        return None
    try:
        return orjson.loads(output)
    except orjson.JSONDecodeError:
        return job.parsed
