"""Micro-benchmark of the hot path (printed, never asserted): run with ``-s`` to see it."""

from __future__ import annotations

import time

from gateway.limits.decide import Estimate, admit, settle
from gateway.limits.policy import LimitsConfig, effective_limits
from gateway.limits.state import UsageState


def test_benchmark_admit_settle_and_serialise() -> None:
    config = LimitsConfig()
    est = Estimate(input_tokens=200, max_output_tokens=512, worst_case_usd=0.0006)
    now = 1_750_000_000.0
    tenant_blob, user_blob = UsageState().to_json(), UsageState().to_json()
    n = 5000
    start = time.perf_counter()
    for i in range(n):
        tl, ul = effective_limits(config, "acme", "alice")
        t, u = UsageState.from_json(tenant_blob), UsageState.from_json(user_blob)
        decision = admit(t, u, tl, ul, est, now + i * 0.001)
        if decision.admitted and decision.reservation is not None:
            t, u = settle(decision.tenant_state, decision.user_state, decision.reservation, 300, 0.0003, now)
        tenant_blob, user_blob = t.to_json(), u.to_json()
    per_request = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    state = UsageState.from_json(tenant_blob)
    for _ in range(n):
        state = UsageState.from_json(state.to_json())
    round_trip = (time.perf_counter() - start) / n * 1e6
    print(
        f"\nlimits bench: limits+parse x2+admit+settle+serialise x2 = {per_request:.1f} us/request; "
        f"state JSON round trip = {round_trip:.1f} us ({len(tenant_blob)} bytes)"
    )
