"""The client SDK on a real broker and gateway: correlation under concurrency, batches, timeouts, the sync wrapper,
and its own reply topic."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from gateway.settings import Settings
from schemas.codes import ErrorCode
from streamgate import Client, ResultTimeout, SyncClient
from streamgate.replies import Chunk
from streams.devtools.dev import DevStack
from streams.runtime.admin import list_topic_names

pytestmark = pytest.mark.integration

TENANT = "sdk"
"""Room for a thousand requests at once, and no content guards: what is tested is the reply path (its policy is in
tests/integration/shared_config.py)."""


@pytest.fixture
def sdk_stack(stack: DevStack) -> DevStack:
    """The shared stack."""
    return stack


def client_settings(stack: DevStack) -> Settings:
    """The stack's settings as its workers have them (the test-side copy takes its topic names as one table)."""
    topics = stack.settings.topics.model_copy(update={"reply_topic_refresh_s": 0.3})
    return stack.settings.model_copy(update={"topics": topics})


def client(stack: DevStack, settings: Settings | None = None) -> Client:
    return Client(tenant=TENANT, user="alice", settings=settings or client_settings(stack), bootstrap=stack.bootstrap)


async def test_a_thousand_concurrent_completes_are_each_answered_with_their_own_result(sdk_stack: DevStack) -> None:
    async with client(sdk_stack) as sdk:
        tokens = [f"tok{uuid.uuid4().hex[:10]}" for _ in range(1000)]
        results = await asyncio.gather(
            *(
                sdk.complete(f"say {token} #sim:echo", timeout_s=240, cache={"mode": "bypass"}, metadata={"n": i})
                for i, token in enumerate(tokens)
            )
        )
    assert [r.status for r in results] == ["ok"] * 1000, {
        (r.status, r.error.code if r.error else None, r.error.message if r.error else None) for r in results
    }
    for i, (token, result) in enumerate(zip(tokens, results, strict=True)):
        assert result.metadata == {"n": i}
        assert result.output is not None and token in result.output  # the echo of this call's own prompt
    assert len({r.id for r in results}) == 1000


async def test_submit_and_results_yield_every_submitted_request_once(sdk_stack: DevStack) -> None:
    async with client(sdk_stack) as sdk:
        ids = [await sdk.submit(f"batch item {i}", cache={"mode": "bypass"}) for i in range(20)]
        seen = [result.id async for result in sdk.results()]
    assert sorted(seen) == sorted(ids)


async def test_past_its_deadline_a_request_is_answered_deadline_exceeded_by_the_gateway(sdk_stack: DevStack) -> None:
    settings = client_settings(sdk_stack)
    patient = settings.client.model_copy(update={"deadline_grace_s": 30.0})
    async with client(sdk_stack, settings=settings.model_copy(update={"client": patient})) as sdk:
        result = await sdk.complete("slow #sim:sleep_ms=60000", timeout_s=1.0, cache={"mode": "bypass"})
    assert result.status == "error" and result.error is not None
    assert result.error.code == ErrorCode.DEADLINE_EXCEEDED


async def test_no_result_within_the_timeout_raises_a_deadline_error(sdk_stack: DevStack) -> None:
    async with client(sdk_stack) as sdk:
        far = int((time.time() + 600) * 1000)  # the gateway would keep going: the client gives up by itself
        # 20 s: 100 times the client's timeout, and within one provider attempt's (30 s), so the call the client
        # gave up on ends on its own without timeouts counting against the shared stack's breakers.
        with pytest.raises(ResultTimeout) as raised:
            await sdk.complete("slow #sim:sleep_ms=20000", timeout_s=0.2, deadline_ms=far, cache={"mode": "bypass"})
        assert raised.value.code == ErrorCode.DEADLINE_EXCEEDED
        assert sdk.router.pending() == 0  # the waiter is gone


async def test_a_reused_id_shares_one_answer_and_the_client_s_topic_is_deleted_at_close(sdk_stack: DevStack) -> None:
    sdk = client(sdk_stack)
    async with sdk:
        assert sdk.reply_topic.startswith(sdk_stack.settings.topics.reply_topic_prefix)
        assert sdk.reply_topic in await list_topic_names(sdk_stack.bootstrap)
        rid = f"same-{uuid.uuid4().hex[:8]}"
        first, second = await asyncio.gather(sdk.complete("hello", id=rid), sdk.complete("hello", id=rid))
        assert first == second and first.id == rid and first.status == "ok"
    assert sdk.reply_topic not in await list_topic_names(sdk_stack.bootstrap)


async def test_stream_yields_the_result_last(sdk_stack: DevStack) -> None:
    async with client(sdk_stack) as sdk:
        items = [item async for item in sdk.stream("stream me", cache={"mode": "bypass"})]
    *chunks, result = items
    assert all(isinstance(c, Chunk) for c in chunks) and result.status == "ok"  # type: ignore[union-attr]
    if chunks:  # a gateway that streams: the deltas add up to the answer
        assert "".join(c.delta for c in chunks) == result.output  # type: ignore[union-attr, attr-defined]


def test_the_sync_client_completes_and_streams(sdk_stack: DevStack) -> None:
    with SyncClient(
        tenant=TENANT, user="bob", settings=client_settings(sdk_stack), bootstrap=sdk_stack.bootstrap
    ) as sdk:
        result = sdk.complete("hello from sync", cache={"mode": "bypass"})
        streamed = list(sdk.stream("stream from sync", cache={"mode": "bypass"}))
    assert result.status == "ok" and result.output
    assert streamed[-1].status == "ok"  # type: ignore[union-attr]
