"""Cache: answer from the exact-match cache when the same prompt was answered before."""

from __future__ import annotations

from agents.job import Job
from gateway.cache import CachedAnswer, ResponseCache, exact_key
from gateway.settings import Settings
from schemas.request import LLMRequest


def cache_key(request: LLMRequest, settings: Settings, models: tuple[str, ...] | None = None) -> str:
    """The exact-match key: tenant, routed model(s) and everything that shapes the answer.

    The tenant is part of the key so one tenant's answers are never served to another. ``models`` are the route
    plan's step models (a cascade's answer is keyed by the whole cascade); without them, the requested or default
    model.
    """
    wanted = request.model or settings.default_model
    model: str | list[str] = settings.resolve_model_name(wanted) or wanted
    if models:
        model = models[0] if len(models) == 1 else list(models)
    return exact_key(
        {
            "tenant": request.tenant,
            "model": model,
            "system": request.system,
            "messages": [(m.role, m.content) for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "response_format": request.response_format,
        }
    )


def cacheable(request: LLMRequest) -> bool:
    """Whether the request may read or write the cache."""
    return request.cache.mode != "bypass"


async def lookup(job: Job, cache: ResponseCache, settings: Settings) -> Job:
    """A finished job on a hit; the job unchanged on a miss, a bypass or a cache outage."""
    if job.finished or not cacheable(job.request):
        return job
    hit = await cache.get(cache_key(job.request, settings, job.plan.models if job.plan else None))
    if hit is None:
        return job
    return job.evolve(
        status="ok",
        output=hit.output,
        parsed=hit.parsed,
        model=hit.model,
        provider=hit.provider,
        input_tokens=hit.input_tokens,
        output_tokens=hit.output_tokens,
        cached=True,
    )


async def remember(job: Job, cache: ResponseCache, settings: Settings) -> None:
    """Store a successful, freshly computed answer with the request's TTL (or the default)."""
    if job.status != "ok" or job.cached or not cacheable(job.request) or job.output is None:
        return
    if job.model is None or job.provider is None:
        return
    answer = CachedAnswer(
        output=job.output,
        parsed=job.parsed,
        model=job.model,
        provider=job.provider,
        input_tokens=job.input_tokens or 0,
        output_tokens=job.output_tokens or 0,
    )
    ttl = job.request.cache.ttl_s or settings.default_cache_ttl_s
    await cache.put(cache_key(job.request, settings, job.plan.models if job.plan else None), answer, ttl)
