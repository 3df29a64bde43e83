"""Benchmark requests: ~1 KB ``LLMRequest`` events spread over many tenants and users.

Load is spread so the ``pro`` tier's limits (6,000 requests/min per tenant, 600 per user) never trip: with the
defaults below, 2,500 req/s is ~39 req/s per tenant and ~1.2 req/s per user. Every run uses its own tenant
names, so the per-minute windows of one run never see another run's requests.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from bench.load import Payload
from schemas.request import LLMRequest

TENANTS = 64
USERS_PER_TENANT = 32
MAX_TOKENS = 64
PROMPT_CHARS = 840
"""With the other fields, a request event is 1.0-1.1 KB."""
_FILLER = (
    "Streaming systems move events between services through durable, partitioned logs. Summarise, in two "
    "short sentences, why a gateway in front of language models benefits from backpressure, replay and exact "
    "accounting, and mention one trade-off of putting a broker on the request path. "
)


def run_tag() -> str:
    """A short tag unique to one run, used in tenant names and request ids."""
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Who asks what: the cache key of a request is (tenant, model, prompt, parameters)."""

    tenant: str
    user: str
    text: str


def prompts(tag: str, count: int, *, tenants: int = TENANTS, users: int = USERS_PER_TENANT) -> list[Prompt]:
    """``count`` distinct prompts of :data:`PROMPT_CHARS` characters, round-robin over tenants and their users."""
    out: list[Prompt] = []
    for n in range(count):
        tenant = f"bench-{tag}-t{n % tenants}"
        user = f"u{(n // tenants) % users}"
        text = f"[{tag}:{n}] {_FILLER}"
        out.append(Prompt(tenant, user, text + " " + "x" * max(0, PROMPT_CHARS - len(text) - 1)))
    return out


def request_bytes(request_id: str, prompt: Prompt, *, user: str | None = None) -> bytes:
    """One request event (~1 KB: the prompt is padded to a fixed length, so replays of a prompt hit the cache)."""
    doc = {
        "v": 1,
        "id": request_id,
        "tenant": prompt.tenant,
        "user": user or prompt.user,
        "messages": [{"role": "user", "content": prompt.text}],
        "max_tokens": MAX_TOKENS,
        "cache": {"mode": "default", "ttl_s": 900},
        "metadata": {"bench": True},
    }
    return orjson.dumps(doc)


def payloads(
    tag: str, batch: str, items: Sequence[Prompt], *, rotate_users: bool = False, keyed: bool = True
) -> list[Payload]:
    """One request per prompt with ids ``{tag}-{batch}-{n}``; ``rotate_users`` varies the asking user.

    ``keyed``: the record key is the tenant, as the README recommends (the gateway then screens the request
    where it lands); unkeyed requests take the re-keying hop through ``streamgate.admit``.
    """
    out: list[Payload] = []
    for n, prompt in enumerate(items):
        user = f"u{(n // TENANTS) % USERS_PER_TENANT}" if rotate_users else None
        request_id = f"{tag}-{batch}-{n}"
        key = prompt.tenant.encode() if keyed else None
        out.append(Payload(request_id, request_bytes(request_id, prompt, user=user), key))
    LLMRequest.model_validate_json(out[0].value)  # the events follow the wire contract
    return out


def misses(tag: str, batch: str, count: int, *, keyed: bool = True) -> list[Payload]:
    """``count`` requests with prompts never asked before (cache misses)."""
    return payloads(tag, batch, prompts(f"{tag}{batch}", count), keyed=keyed)


def replays(tag: str, batch: str, items: Sequence[Prompt], count: int) -> list[Payload]:
    """``count`` requests cycling through already answered ``items`` (exact-cache hits), new ids each."""
    cycle = [items[n % len(items)] for n in range(count)]
    return payloads(tag, batch, cycle, rotate_users=True)
