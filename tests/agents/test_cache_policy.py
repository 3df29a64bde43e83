"""What the exact key covers, its scope, and which requests the policy lets read or write the cache."""

from __future__ import annotations

from typing import Any

import pytest

from agents.cache import cache_key, cacheable, key_material, material_of, policy_of, prompt_version_of, wants_semantic
from gateway.cache_policy import CacheRule, CacheSettings, effective_policy
from gateway.settings import load_settings
from schemas.request import LLMRequest
from tests.support.factories import make_job, make_request

SETTINGS = load_settings()

# Every request field is either part of the key (shapes the answer) or listed here with the reason it is not.
NOT_IN_KEY = {
    "v": "the contract version; one version per key prefix",
    "id": "identifies the request, not the answer",
    "user": "the tenant scopes the cache; users of a tenant share answers",
    "task": "selects the policy (TTL, scope, semantic), not the answer",
    "cache": "how the cache is used, not what is answered",
    "reply_to": "where the answer goes",
    "deadline_ms": "when the answer is needed",
    "lane": "how the answer is obtained (batch API or now); the same call either way, so a batch request can hit",
    "metadata": "echoed back, never sent to a provider",
    "stream": "how the answer is delivered (chunks before the result), not what is answered",
    "prompt": "rendered into system and messages at screening (both in the key); its name@version is in the key too",
}
IN_KEY = {"tenant", "messages", "system", "model", "max_tokens", "temperature", "top_p", "stop", "seed",
          "response_format"}  # fmt: skip


def test_every_request_field_is_either_in_the_key_or_listed_as_not_shaping_the_answer() -> None:
    # A new contract field (tools, a template id...) fails this test until someone decides where it belongs.
    assert set(LLMRequest.model_fields) == IN_KEY | set(NOT_IN_KEY)


def test_the_key_material_has_extension_points_for_tools_and_the_prompt_version() -> None:
    context = key_material(make_request(), SETTINGS, policy_of(make_request(), SETTINGS)).context
    assert {"tools", "prompt_version"} <= set(context)


@pytest.mark.parametrize(
    "change",
    [
        {"top_p": 0.5},
        {"stop": ["\n"]},
        {"seed": 7},
        {"temperature": 0.0},
        {"max_tokens": 99},
        {"system": "be terse"},
        {"model": "gpt-4o"},
        {"response_format": {"type": "object"}},
        {"messages": [{"role": "user", "content": "earlier"}, {"role": "user", "content": "same prompt"}]},
    ],
)
def test_every_sampling_parameter_and_the_context_change_the_key(change: dict[str, Any]) -> None:
    base = make_request("same prompt")
    assert cache_key(base, SETTINGS) != cache_key(make_request("same prompt", **change), SETTINGS)


def test_the_key_names_its_tenant_and_model_in_clear_for_purges() -> None:
    assert cache_key(make_request("x", tenant="globex", model="fast"), SETTINGS).startswith(
        "sg:cache:v2:{globex}:gpt-4o-mini:"
    )


def test_tenants_never_share_a_key_unless_their_policy_shares_the_scope() -> None:
    a, b = make_request("same", tenant="acme"), make_request("same", tenant="globex")
    assert cache_key(a, SETTINGS) != cache_key(b, SETTINGS)
    shared = load_settings(cache=CacheSettings(tenants={n: CacheRule(scope="shared") for n in ("acme", "globex")}))
    assert cache_key(a, shared) == cache_key(b, shared)
    half = load_settings(cache=CacheSettings(tenants={"acme": CacheRule(scope="shared")}))
    assert cache_key(a, half) != cache_key(b, half)  # globex keeps its own scope


def test_ttl_zero_for_a_task_means_never_cached_whatever_the_tenant_says() -> None:
    settings = CacheSettings(tasks={"personal": CacheRule(ttl_s=0)}, tenants={"acme": CacheRule(ttl_s=600)})
    assert effective_policy(settings, "acme", "personal").ttl_s == 0
    assert effective_policy(settings, "acme", "general").ttl_s == 600
    assert effective_policy(settings, "globex", "general").ttl_s == settings.ttl_s
    full = load_settings(cache=settings)
    assert not cacheable(make_request(task="personal"), full)
    assert cacheable(make_request(task="general"), full)


def test_the_tenant_rule_overrides_the_task_rule_field_by_field() -> None:
    settings = CacheSettings(
        tasks={"faq": CacheRule(ttl_s=60, semantic=True, semantic_threshold=0.9)},
        tenants={"acme": CacheRule(ttl_s=30)},
    )
    policy = effective_policy(settings, "acme", "faq")
    assert (policy.ttl_s, policy.semantic, policy.semantic_threshold) == (30, True, 0.9)


def test_sampling_requests_are_not_cached_unless_the_policy_allows_it() -> None:
    assert cacheable(make_request(temperature=0.0), SETTINGS)
    assert not cacheable(make_request(temperature=0.7), SETTINGS)
    allowed = load_settings(cache=CacheSettings(tenants={"acme": CacheRule(allow_temperature=True)}))
    assert cacheable(make_request(temperature=0.7), allowed)


def test_semantic_is_opt_in_by_request_or_by_the_tenants_policy() -> None:
    default = policy_of(make_request(), SETTINGS)
    assert not wants_semantic(make_request(), default)
    assert wants_semantic(make_request(cache={"mode": "semantic"}), default)
    opted = load_settings(cache=CacheSettings(tenants={"acme": CacheRule(semantic=True)}))
    assert wants_semantic(make_request(), policy_of(make_request(), opted))


def test_the_cache_section_loads_from_toml(tmp_path: Any) -> None:
    config = tmp_path / "streamgate.toml"
    config.write_text(
        "[cache]\nttl_s = 120\n[cache.tasks.personal]\nttl_s = 0\n"
        "[cache.tenants.acme]\nsemantic = true\nsemantic_threshold = 0.9\nscope = 'shared'\n"
    )
    settings = load_settings(config)
    assert settings.cache.ttl_s == 120
    policy = effective_policy(settings.cache, "acme", "personal")
    assert (policy.ttl_s, policy.semantic, policy.semantic_threshold, policy.scope) == (0, True, 0.9, "shared")


def test_the_prompt_version_and_the_route_plan_models_change_the_key() -> None:
    request = make_request("same rendered text")
    policy = policy_of(request, SETTINGS)
    base = key_material(request, SETTINGS, policy).key
    assert key_material(request, SETTINGS, policy, prompt_version="summary@2").key != base
    assert (
        key_material(request, SETTINGS, policy, prompt_version="summary@2").key
        != key_material(request, SETTINGS, policy, prompt_version="summary@3").key
    )
    cascade = key_material(request, SETTINGS, policy, models=("gpt-4o-mini", "gpt-4o")).key
    assert cascade != base and cascade.startswith("sg:cache:v2:{acme}:gpt-4o-mini+gpt-4o:")


def test_a_job_rendered_from_a_registry_prompt_keys_by_its_version() -> None:
    request = make_request("same rendered text")
    v1 = make_job(request, prompt_name="summary", prompt_version="1")
    v2 = make_job(request, prompt_name="summary", prompt_version="2")
    policy = policy_of(request, SETTINGS)
    assert prompt_version_of(v1) == "summary@1" and prompt_version_of(make_job(request)) is None
    assert material_of(v1, SETTINGS, policy).key != material_of(v2, SETTINGS, policy).key


def test_semantic_is_configured_by_the_defaults_a_task_or_a_tenant() -> None:
    assert not CacheSettings().semantic_configured
    assert CacheSettings(semantic=True).semantic_configured
    assert CacheSettings(tasks={"faq": CacheRule(semantic=True)}).semantic_configured
    assert CacheSettings(tenants={"sem": CacheRule(semantic=True)}).semantic_configured
    assert not CacheSettings(tenants={"t": CacheRule(semantic=False, ttl_s=60)}).semantic_configured
