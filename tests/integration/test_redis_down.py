"""With Redis unreachable the gateway still answers: the cache degrades to bypass and never fails a request."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for
from tests.support.gateway import gateway_stack, simulator_stats
from tests.support.ports import closed_redis_url


@pytest.fixture(scope="module")
def stack_without_redis(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One worker whose REDIS_URL points at a port nothing listens on."""
    with gateway_stack(kafka_bootstrap, closed_redis_url(), tmp_path_factory.mktemp("no-redis")) as running:
        yield running


async def test_a_repeat_is_answered_fresh_and_concurrent_duplicates_still_coalesce(
    stack_without_redis: DevStack,
) -> None:
    stack = stack_without_redis
    assert stack.settings.redis_url.startswith("redis://127.0.0.1:")
    # Words the injection classifier reads as plainly benign, whatever the number becomes: a number that happens
    # to look like a card is redacted to a placeholder and dropped before scoring ("cache me if you can" alone
    # scored as an attack, a known false positive on short texts).
    text = f"How many days are in a leap year? {time.time_ns()}"
    first = request(text, cache={"mode": "default", "ttl_s": 60})
    await publish(stack, [first])
    a = (await results_for(stack, [first["id"]]))[first["id"]][0]
    second = request(text, cache={"mode": "default"})
    await publish(stack, [second])  # with a working cache this would be an exact hit (test_pipeline_e2e)
    found = await results_for(stack, [second["id"]])
    answers = [a, found[second["id"]][0]]
    for result in answers:
        assert result["status"] == "ok" and result["error"] is None, result
        assert result["cached"] is False and result["attempts"] == 1 and result["cost_usd"] > 0
    calls = simulator_stats(stack)["calls_per_request_id"]
    assert all(calls[doc["id"]] == 1 for doc in (first, second))
    # Stampede control is in-process: concurrent duplicates still share one call without Redis.
    slow = f"{text} #sim:sleep_ms=300"  # the simulator takes 300 ms, so the two surely overlap
    third, fourth = request(slow, cache={"mode": "default"}), request(slow, cache={"mode": "default"})
    await publish(stack, [third, fourth])
    found = await results_for(stack, [third["id"], fourth["id"]])
    pair = [found[third["id"]][0], found[fourth["id"]][0]]
    assert all(r["status"] == "ok" for r in pair)
    assert len({r["output"] for r in answers}) == 1  # the simulator answers a prompt deterministically
    assert len({r["output"] for r in pair}) == 1
    calls = simulator_stats(stack)["calls_per_request_id"]
    assert sum(calls.get(doc["id"], 0) for doc in (third, fourth)) == 1
    assert sorted(r["coalesced"] for r in pair) == [False, True]
    worker_log = (stack.log_dir / "worker-0.log").read_text(errors="replace")
    assert "response cache unavailable, bypassing it" in worker_log  # the degraded path really ran


def test_ready_answers_503_naming_redis(stack_without_redis: DevStack) -> None:
    (worker,) = stack_without_redis.describe()["workers"]  # type: ignore[misc]
    with urllib.request.urlopen(f"{worker}/healthz", timeout=10) as alive:
        assert alive.status == 200  # alive, just not ready
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{worker}/ready", timeout=10)
    assert caught.value.code == 503
    body = json.load(caught.value)
    assert body["ready"] is False and body["failing"] == ["redis"]
    assert body["checks"]["broker"] is True and body["checks"]["joined"] is True
