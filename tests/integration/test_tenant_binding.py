"""Tenant binding on a running worker: only a request signed with its tenant's key is served; a forged, unsigned
or tampered one is rejected at intake with a stable code and leaves the tenant's budgets untouched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway.tenant_binding import SIGNATURE_HEADER, TENANT_HEADER, sign
from streams.devtools.client import read_topic
from streams.devtools.dev import DevStack
from tests.integration.helpers import request, results_for
from tests.integration.shared_config import ACME_KEYS, GLOBEX_KEY
from tests.support.kafka import produce

pytestmark = pytest.mark.integration

(ACME, ACME_OLD), GLOBEX = ACME_KEYS, GLOBEX_KEY


@pytest.fixture
def bound_stack(signed_stack: DevStack) -> DevStack:
    """The signed stack (``tests/integration/conftest.py``): acme signs with either of two keys, globex with one."""
    return signed_stack


async def publish_one(stack: DevStack, doc: dict[str, Any], headers: list[tuple[str, bytes]]) -> None:
    value = json.dumps(doc).encode()
    await produce(stack.bootstrap, stack.settings.topics.requests, [value], [doc["tenant"].encode()], headers=headers)


def signed(doc: dict[str, Any], tenant: str, key: str) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    return doc, sign(json.dumps(doc).encode(), tenant, key)


async def charged_keys(stack: DevStack) -> set[str]:
    """Every tenant and tenant|user key the usage table's changelog has a record for."""
    changelog = f"{stack.settings.app_id}-usage-changelog"
    return {json.loads(record.key) for record in await read_topic(stack.bootstrap, changelog) if record.key}


def test_only_requests_signed_by_their_tenant_are_served(bound_stack: DevStack) -> None:
    stack = bound_stack
    forged_value = json.dumps(request("charge it to globex", tenant="globex", user="mallory")).encode()
    tampered = request("tampered", tenant="globex", user="mallory")
    tampered_headers = sign(json.dumps({**tampered, "user": "bob"}).encode(), "globex", GLOBEX)
    cases: dict[str, tuple[dict[str, Any], list[tuple[str, bytes]]]] = {
        "ok": signed(request("hello", tenant="acme"), "acme", ACME),
        "ok with the older key": signed(request("hello again", tenant="acme"), "acme", ACME_OLD),
        "tenant_forbidden": (json.loads(forged_value), sign(forged_value, "acme", ACME)),  # acme's key, globex's bill
        "unauthenticated unsigned": (request("no signature", tenant="globex", user="mallory"), []),
        "unauthenticated tampered": (tampered, tampered_headers),  # signed, then a field changed
        "unauthenticated claimed": (
            request("claims globex", tenant="globex", user="mallory"),
            [(TENANT_HEADER, b"globex"), (SIGNATURE_HEADER, b"v1=" + b"0" * 64)],
        ),
        "unauthenticated wrong key": signed(request("guessed", tenant="globex", user="mallory"), "globex", ACME),
    }

    async def scenario() -> dict[str, list[dict[str, Any]]]:
        for doc, headers in cases.values():
            await publish_one(stack, doc, headers)
        return await results_for(stack, [doc["id"] for doc, _ in cases.values()])

    found = asyncio.run(scenario())
    for what, (doc, _) in cases.items():
        (result,) = found[doc["id"]]
        if what.startswith("ok"):
            assert result["status"] == "ok", (what, result)
        else:
            assert result["status"] == "rejected", (what, result)
            assert result["error"]["code"] == what.split()[0] and result["error"]["limit"] == "tenant_binding", what
            assert result["cost_usd"] == 0 and result["attempts"] == 0
    # no refused request reached screening: nothing charged to globex or its users, not even a reservation
    charged = asyncio.run(charged_keys(stack))
    assert "acme" in charged and not {key for key in charged if key.split("|")[0] == "globex"}, charged


def test_a_signed_request_of_the_victim_is_charged_to_it(bound_stack: DevStack) -> None:
    doc, headers = signed(request("globex's own", tenant="globex", user="gina"), "globex", GLOBEX)
    asyncio.run(publish_one(bound_stack, doc, headers))
    assert asyncio.run(results_for(bound_stack, [doc["id"]]))[doc["id"]][0]["status"] == "ok"
    assert {"globex", "globex|gina"} <= asyncio.run(charged_keys(bound_stack))
