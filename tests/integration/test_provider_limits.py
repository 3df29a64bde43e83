"""Provider-side RPM limits: the gateway routes to the fallback before the provider would answer 429."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.helpers import publish, request, results_for
from tests.support.gateway import gateway_stack, simulator_stats


async def test_requests_over_the_configured_rpm_go_to_the_fallback(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    env = {"STREAMGATE_RESILIENCE__LIMITS": json.dumps({"gpt-4o": {"rpm": 3}})}
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path, extra_env=env) as stack:
        served = []
        for i in range(5):  # sequential, so the count is deterministic
            doc = request(f"rpm {i}", model="gpt-4o")
            await publish(stack, [doc])
            served.append((await results_for(stack, [doc["id"]]))[doc["id"]][0])
        assert [r["model"] for r in served] == ["gpt-4o"] * 3 + ["claude-sonnet-4"] * 2
        assert [a["outcome"] for a in served[3]["attempt_log"]] == ["local_rate_limit", "ok"]
        assert simulator_stats(stack)["calls_per_model"]["gpt-4o"] == 3  # never a 4th call to be refused
