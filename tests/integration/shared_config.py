"""The configuration of the session's shared stacks, and how a test module gets a tenant policy on them.

Starting a stack (a simulator, a worker, a probe answered end to end) costs 15-40 s on the loaded CI box, so the
integration modules share two session-scoped stacks (fixtures in ``tests/integration/conftest.py``) instead of
starting one each:

- ``stack``: one worker, the simulator without latency, :data:`SHARED_CONFIG`.
- ``signed_stack``: the same, with ``[tenant_binding] mode = "hmac"`` (:data:`SIGNED_CONFIG`): every request must
  be signed, so only modules that sign (tenant binding, the ``streamgate serve`` front door) use it.

A module that needs its own policy gets it on a shared stack like this:

1. Name a tenant after the module (``stream-blocker``, ``sdk``, ``allow-listed``), so that no two modules give the
   same tenant different policies: TOML refuses a table defined twice, so a clash fails at start-up.
2. Add that tenant's tables (``[guards.tenants.X]``, ``[limits.tenants.X...]``, ``[cache.tenants.X]``,
   ``[routing.tenants.X]``) below, under a comment naming the module, and use the tenant in the module's
   requests.
3. Global keys (``[guards] enabled``, ``[resilience]``, ``settle_in_place``, ``[limits] alert_shares``, the
   simulator's latency...) change every module's traffic: a module that needs one keeps its own stack
   (``tests.support.gateway.gateway_stack``). Only additive global tables live here: tasks and prompts that
   apply only to requests naming them, a metric label for one tenant, a faster reply-topic refresh.

Modules run one after another on a shared stack, so each may use the simulator's faults if it clears them (an
autouse fixture), may restart ``worker-0`` if it waits for it to answer again, and keeps apart from the others by
request id and tenant. A test that asserts exact deltas of worker-wide counters first waits for the worker to
be idle (:func:`tests.support.gateway.wait_idle`): an earlier module may have left a slow request in flight.
Helpers' requests default to tenant ``acme``, which every module uses: it has room for a whole session's
traffic, so that a module's limits are tested on a tenant of its own.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.fuzzing import GENEROUS, fuzz_policies

ACME_KEYS = ("sgk_acme-new", "sgk_acme-old")
"""acme's tenant-binding keys on the signed stack (during a rotation: the front door signs with the first)."""
GLOBEX_KEY = "sgk_globex"
TIGHT_KEY = "sgk_serve-test-tight"

_DEFAULT_TENANT = f"""
# every module: the helpers' default tenant and user, with room for a whole session's traffic
[limits.tenants.acme.tenant]
{GENEROUS}
[limits.tenants.acme.user_default]
{GENEROUS}
"""

SHARED_CONFIG = (
    """
# test_routing's registry prompts (a top-level key: before every table)
prompts_dir = "{prompts}"
"""
    + _DEFAULT_TENANT
    + """
# test_guards_e2e
[guards.tenants.blocker]
pii_input = "block"
[guards.tenants.restorer]
pii_restore = true
[guards.tenants.open]
pii_input = "allow"
[guards.tenants.strict]
deny_topics = ["project falcon"]
deny_patterns = ['(?i)\\binternal-only\\b']

# test_streaming_e2e
[guards.tenants.stream-open]
pii_input = "allow"
[guards.tenants.stream-blocker]
pii_input = "allow"
pii_output = "block"

# test_cache_e2e
[cache.tenants.sem]
semantic = true

# test_usage_ledger
[metrics]
tenants = ["ledger-a"]

# test_routing (the tasks apply only to requests that name them, as the prompts do)
[routing.tasks.classify]
tier = "small"
[routing.tasks.extract]
cascade = ["gpt-4o-mini", "gpt-4o"]
[routing.tenants.allow-listed]
allowed_models = ["gpt-4o-mini", "claude-3-5-haiku"]

# test_client_sdk (a thousand requests at once; what is tested is the reply path: spare the box the guards' CPU)
[topics]
reply_topic_refresh_s = 0.3   # the workers' reply-topic gate re-lists topics this often; a new client waits as long
[guards.tenants.sdk]
pii_input = "allow"
pii_output = "allow"
injection = "allow"
[limits.tenants.sdk.tenant]
{generous}
[limits.tenants.sdk.user_default]
{generous}

# test_limits (the window test)
[limits.tenants.window-co.tenant]
{generous}
[limits.tenants.window-co.users.bob]
requests_per_window = 5
window_s = 4

# test_hostile_input
{fuzz}
"""
)
"""The shared ``stack``'s config; ``{prompts}`` is filled in by :func:`write_shared_config`."""

SIGNED_CONFIG = f"""
{_DEFAULT_TENANT}
[topics]
reply_topic_refresh_s = 0.3

[tenant_binding]               # the worker serves only signed requests
mode = "hmac"

[tenant_binding.keys]
acme = {list(ACME_KEYS)!r}      # test_tenant_binding (both keys), the front door (the first)
globex = "{GLOBEX_KEY}"        # test_tenant_binding
tight = "{TIGHT_KEY}"  # the front door

# the front door (tests/integration/front_door.py; test_serve, test_serve_schemathesis)
[serve]
request_timeout_s = 4

[limits.tenants.tight.users.pat]
requests_per_window = 1
"""
"""The ``signed_stack``'s config (``streamgate serve`` reads the same file)."""

ROUTING_PROMPTS = {
    "summarise/2.toml": 'template = "Summarise: $text"\n',
    "summarise/3.toml": 'system = "You summarise in $words words."\ntemplate = "Summarise this text:\\n$text"\n',
}
"""test_routing's registry prompts (``prompts_dir``)."""


def write_shared_config(work: Path) -> str:
    """The shared stack's config as TOML text, with the routing prompts written under ``work``."""
    prompts = work / "prompts"
    for name, text in ROUTING_PROMPTS.items():
        (prompts / name).parent.mkdir(parents=True, exist_ok=True)
        (prompts / name).write_text(text)
    return SHARED_CONFIG.format(prompts=prompts, generous=GENEROUS, fuzz=fuzz_policies())
