"""A worker whose broker went away backs off instead of spinning, and stops when told (SIGTERM).

The broker here is a private embedded one (the session broker is shared): it is stopped under a running worker.
CPU and time bounds are liveness checks with wide margins, not speed targets.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from streams.devtools.dev import run_blocking
from streams.devtools.embedded_broker import EmbeddedBroker
from tests.integration.helpers import publish, request
from tests.support.gateway import gateway_stack

CPU_WINDOW_S = 10.0
MAX_CPU_SHARE = 0.20
"""A worker with nothing to do but reconnect uses a few percent of a core; the fault spun at ~60 %."""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_worker_without_its_broker_stays_quiet_and_stops_on_sigterm(redis_url: str, tmp_path: Path) -> None:
    with EmbeddedBroker(tmp_path / "broker") as broker:
        extra = {"STREAMGATE_SHUTDOWN_TIMEOUT_S": "10"}
        with gateway_stack(
            broker.bootstrap_servers, redis_url, tmp_path, extra_env=extra, simulator_latency_ms=2000
        ) as stack:
            # Requests in flight when the broker goes: their results can no longer be sent.
            run_blocking(publish(stack, [request(f"in flight {n}") for n in range(50)]))
            time.sleep(1.0)
            pid = stack.pid("worker-0")
            broker.stop()
            started, cpu_before = time.monotonic(), _cpu_seconds(pid)
            time.sleep(CPU_WINDOW_S)
            share = (_cpu_seconds(pid) - cpu_before) / (time.monotonic() - started)
            assert share < MAX_CPU_SHARE, f"worker used {share:.0%} of a core while its broker was down"

            status = stack.stop("worker-0", timeout_s=10 + 20)
            assert status != -9, "the worker ignored SIGTERM and had to be killed"
