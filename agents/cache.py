"""Cache: answer from the exact cache, the semantic cache, or a concurrent identical request's provider call.

The exact key covers everything that changes the answer (:func:`key_material`); its scope is the tenant unless
the policy shares it. A request is cacheable unless it bypasses the cache, its policy's TTL is 0, or it samples
(temperature > 0) and the policy does not allow that. The semantic cache is consulted after an exact miss when the
request asks for it (``cache.mode = "semantic"``) or its tenant's policy enables it; only then is anything embedded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from agents.job import Job
from gateway.cache import SHARED_SCOPE, CachedAnswer, ResponseCache, exact_key
from gateway.cache_flights import MissFlights
from gateway.cache_policy import EffectivePolicy, effective_policy
from gateway.pricing import cost_usd, price_of
from gateway.semantic.service import SemanticCache
from gateway.settings import Settings
from gateway.token_counts import TokenCounts
from schemas.request import LLMRequest

HitKind = Literal["exact", "semantic"]
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Caches:
    """The cache services of a worker."""

    exact: ResponseCache
    flights: MissFlights
    semantic: SemanticCache | None = None


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """What a cache key is made of: the scope and model in clear, the context, and the question looked up."""

    scope: str
    model: str
    context: dict[str, Any]
    question: str | None

    @property
    def key(self) -> str:
        """The exact-cache key."""
        return exact_key(self.scope, self.model, {"context": self.context, "question": self.question})

    @property
    def namespace(self) -> str:
        """Everything but the question: semantic neighbours must share it."""
        return exact_key(self.scope, self.model, {"context": self.context})


def prompt_version_of(job: Job) -> str | None:
    """The registry prompt's identity (``name@version``) a job was rendered from; part of every key, so a new
    prompt version never serves answers of the old one (the rendered text usually differs too, but need not)."""
    return f"{job.prompt_name}@{job.prompt_version}" if job.prompt_name else None


def key_material(
    request: LLMRequest,
    settings: Settings,
    policy: EffectivePolicy,
    *,
    models: tuple[str, ...] | None = None,
    prompt_version: str | None = None,
) -> KeyMaterial:
    """Everything that shapes the answer, split into the looked-up question and its context.

    ``models`` are the route plan's step models (a cascade's answer is keyed by the whole cascade); without them,
    the requested or default model. Every request field either appears here or is listed in
    ``tests/agents/test_cache_policy.py`` as not shaping the answer (id, user, metadata...), so a new contract
    field (e.g. ``tools``) cannot be forgotten silently.
    """
    wanted = request.model or settings.default_model
    model = settings.resolve_model_name(wanted) or wanted
    if models:
        model = "+".join(models)
    messages = [(m.role, m.content) for m in request.messages]
    question = None
    if messages[-1][0] == "user":
        question = messages.pop()[1]
    context = {
        "system": request.system,
        "messages": messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "seed": request.seed,
        "response_format": request.response_format,
        "tools": None,  # the contract has no tools yet: add them (and tool_choice) here when it does
        "prompt_version": prompt_version,
    }
    scope = SHARED_SCOPE if policy.scope == "shared" else request.tenant
    return KeyMaterial(scope, model, context, question)


def cache_key(
    request: LLMRequest, settings: Settings, models: tuple[str, ...] | None = None, prompt_version: str | None = None
) -> str:
    """The exact-match key of a request under its policy."""
    policy = policy_of(request, settings)
    return key_material(request, settings, policy, models=models, prompt_version=prompt_version).key


def material_of(job: Job, settings: Settings, policy: EffectivePolicy) -> KeyMaterial:
    """The key material of a job: its (rendered) request, its route plan's models and its prompt version."""
    models = job.plan.models if job.plan else None
    return key_material(job.request, settings, policy, models=models, prompt_version=prompt_version_of(job))


def policy_of(request: LLMRequest, settings: Settings) -> EffectivePolicy:
    """The effective cache policy of the request's tenant and task."""
    return effective_policy(settings.cache, request.tenant, request.task)


def cacheable(request: LLMRequest, settings: Settings) -> bool:
    """Whether the request may read or write the cache."""
    if request.cache.mode == "bypass":
        return False
    policy = policy_of(request, settings)
    if not policy.enabled:
        return False
    return not request.temperature or policy.allow_temperature


def wants_semantic(request: LLMRequest, policy: EffectivePolicy) -> bool:
    """Whether the semantic cache is consulted (and written) for this request."""
    return request.cache.mode == "semantic" or policy.semantic


def saved_by(answer: CachedAnswer, settings: Settings) -> float:
    """What serving ``answer`` again would have cost at its model's prices."""
    spec = settings.models.get(answer.model)
    price = price_of(spec) if spec is not None else None
    if price is None:
        return 0.0
    return cost_usd(price, TokenCounts(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens))


async def lookup(job: Job, caches: Caches, settings: Settings) -> Job:
    """A finished job on a hit; else the job (marked as the leader of its key when coalescing)."""
    request = job.request
    if job.finished or not cacheable(request, settings):
        return job
    policy = policy_of(request, settings)
    material = material_of(job, settings, policy)
    key = material.key
    answer = await caches.exact.get(key)
    if answer is not None:
        return await _served(job, caches, settings, answer, "exact")
    if caches.semantic is not None and material.question is not None and wants_semantic(request, policy):
        semantic = caches.semantic
        question = material.question
        match = await _safely(caches, lambda: semantic.lookup(request.tenant, material.namespace, question,
                                                              policy.semantic_threshold), None)  # fmt: skip
        if match is not None:
            found = await caches.exact.get(match.key)
            if found is not None:
                return await _served(job, caches, settings, found, "semantic", similarity=match.similarity)
            await _safely(caches, lambda: semantic.forget(request.tenant, match.key), None)
    if settings.cache.coalesce:
        return await _lead_or_follow(job, caches, settings, key)
    caches.exact.count_hit(request.tenant, None, 0.0)
    return job


LEADS_AWAITED = 2  # a follower waits for at most this many leaders before calling on its own


async def _lead_or_follow(job: Job, caches: Caches, settings: Settings, key: str) -> Job:
    """Lead the key's provider call, or wait for its leader's answer.

    When a leader fails, one follower takes the lead and the rest wait for it; after ``LEADS_AWAITED`` failed
    leaders (a provider that keeps failing) followers call on their own, in parallel, rather than one at a time.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.resilience.max_request_s
    for _ in range(LEADS_AWAITED):
        pending = caches.flights.follow_or_lead(key)
        if pending is None:
            caches.exact.count_hit(job.request.tenant, None, 0.0)
            return job.evolve(cache_lead=key)
        try:
            answer = await asyncio.wait_for(asyncio.shield(pending), timeout=max(0.0, deadline - loop.time()))
        except TimeoutError:
            break  # the leader is stuck: call on our own rather than fail
        if answer is not None:
            return await _served(job, caches, settings, answer, "exact", coalesced=True)
    caches.exact.count_hit(job.request.tenant, None, 0.0)
    return job


async def _served(
    job: Job,
    caches: Caches,
    settings: Settings,
    answer: CachedAnswer,
    kind: HitKind,
    *,
    similarity: float | None = None,
    coalesced: bool = False,
) -> Job:
    caches.exact.count_hit(job.request.tenant, "coalesced" if coalesced else kind, saved_by(answer, settings))
    return job.evolve(
        status="ok",
        output=answer.output,
        parsed=answer.parsed,
        model=answer.model,
        provider=answer.provider,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        cached=True,
        cache_hit=kind,
        cache_similarity=None if similarity is None else round(similarity, 4),
        coalesced=coalesced,
    )


def answer_of(job: Job) -> CachedAnswer | None:
    """The cacheable answer of a freshly computed, successful job."""
    if job.status != "ok" or job.cached or job.output is None or job.model is None or job.provider is None:
        return None
    return CachedAnswer(
        output=job.output,
        parsed=job.parsed,
        model=job.model,
        provider=job.provider,
        input_tokens=job.input_tokens or 0,
        output_tokens=job.output_tokens or 0,
    )


async def remember(job: Job, caches: Caches, settings: Settings) -> None:
    """Wake the job's followers, then store a fresh successful answer (exact, and semantic where wanted)."""
    answer = answer_of(job)
    if job.cache_lead is not None:
        caches.flights.settle(job.cache_lead, answer)
    try:
        await _store(job, answer, caches, settings)
    finally:
        if job.cache_lead is not None:
            caches.flights.forget(job.cache_lead)  # the answer is in the exact cache now (or Redis is down)


async def _store(job: Job, answer: CachedAnswer | None, caches: Caches, settings: Settings) -> None:
    request = job.request
    if answer is None or not cacheable(request, settings):
        return
    policy = policy_of(request, settings)
    ttl = min(policy.ttl_s, request.cache.ttl_s or policy.ttl_s)
    semantic = caches.semantic if wants_semantic(request, policy) else None
    # A leader's key is the one its lookup computed (request and route plan are unchanged since): not hashed again.
    if job.cache_lead is not None and semantic is None:
        await caches.exact.put(job.cache_lead, answer, ttl)
        return
    material = material_of(job, settings, policy)
    key = material.key
    await caches.exact.put(key, answer, ttl)
    question = material.question
    if semantic is not None and question is not None:
        await _safely(caches, lambda: semantic.remember(request.tenant, material.namespace, question, key, ttl),
                      None)  # fmt: skip


async def _safely(caches: Caches, call: Callable[[], Awaitable[T]], fallback: T) -> T:
    """A semantic-cache operation that can only ever degrade to a miss (Redis down, or a bug in the model path)."""
    try:
        return await caches.exact.guarded("semantic", call, fallback)
    except Exception:
        log.exception("semantic cache failed; serving without it")
        return fallback
