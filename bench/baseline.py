"""Baseline: produce -> consume -> produce -> consume through a bare aiokafka echo process on the same broker.

This is the physical limit of one Kafka hop and back on this machine: the same ~1 KB events, the same load
generator, the worker's fetch wait and linger, and nothing else on the path. Pipeline figures are reported as
ratios to it, measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from subprocess import STDOUT, Popen
from typing import Any

from bench.load import Tap, new_producer, offer, parse_request
from bench.payloads import misses, run_tag
from bench.runs import RunResult, fixed_rate
from bench.stats import Figure, figures
from gateway.kafka_security import KafkaTarget, connection
from gateway.settings import Settings
from streams.runtime.admin import ensure_topics


async def baseline(
    bootstrap: KafkaTarget,
    settings: Settings,
    *,
    runs: int,
    rates: Sequence[float],
    duration_s: float,
    blast: int,
    log_dir: Path,
) -> dict[str, Any]:
    """Latency at each offered rate and the blast throughput (messages/s) of one hop and back."""
    tag = run_tag()
    source, target = f"bench.echo.{tag}.in", f"bench.echo.{tag}.out"
    await ensure_topics(bootstrap, [(source, settings.partitions), (target, settings.partitions)])
    echo = _start_echo(bootstrap, source, target, tag, settings, log_dir)
    tap = await Tap(bootstrap, target, parse_request).start()
    producer = await new_producer(bootstrap)
    try:
        await _wait_echo(producer, source, tap, tag)
        latency: dict[float, list[RunResult]] = {rate: [] for rate in rates}
        throughput: list[float] = []
        for run in range(runs):
            for rate in rates:
                payloads = misses(tag, f"l{run}-{rate:.0f}", int(rate * duration_s), keyed=False)
                latency[rate].append(await fixed_rate(producer, source, tap, payloads, rate, timeout_s=20))
            blast_payloads = misses(tag, f"b{run}", blast, keyed=False)
            result = await fixed_rate(producer, source, tap, blast_payloads, 0, timeout_s=60)
            throughput.append(result.completion_rate if result.answered == result.sent else float("nan"))
            print(
                f"    run {run + 1}: {throughput[-1]:,.0f} msg/s blast; "
                + ", ".join(f"{rate:.0f}/s p50 {latency[rate][-1].summary()['e2e_p50']:.1f} ms" for rate in rates),
                flush=True,
            )
    finally:
        await producer.stop()
        await tap.stop()
        echo.terminate()
        echo.wait(10)
    return {
        "throughput_msgs_s": Figure.of(throughput),
        "latency": {f"{rate:.0f}": figures([r.summary() for r in results]) for rate, results in latency.items()},
    }


def _start_echo(
    bootstrap: KafkaTarget, source: str, target: str, tag: str, settings: Settings, log_dir: Path
) -> Popen[bytes]:
    """Start the echo process (``python -m bench.echo``) with the worker's fetch wait and linger."""
    log_dir.mkdir(parents=True, exist_ok=True)
    group = f"bench-echo-{tag}"
    args = [str(bootstrap), source, target, group, str(settings.fetch_max_wait_ms), str(settings.producer_linger_ms)]
    env = dict(os.environ)
    if connection(bootstrap).security.security_protocol == "PLAINTEXT":  # the embedded broker, whatever [kafka] says
        env["STREAMGATE_KAFKA__SECURITY_PROTOCOL"] = "PLAINTEXT"
    with (log_dir / "echo.log").open("wb") as log:
        return Popen([sys.executable, "-m", "bench.echo", *args], stdout=log, stderr=STDOUT, env=env)


async def _wait_echo(producer: Any, source: str, tap: Tap, tag: str, timeout_s: float = 60.0) -> None:
    """Publish probes until one comes back (the echo has joined its group and owns the partitions)."""
    deadline = time.monotonic() + timeout_s
    attempt = 0
    while time.monotonic() < deadline:
        probes = misses(tag, f"p{attempt}", 16, keyed=False)
        await offer(producer, source, probes, 0)
        arrived = await tap.wait_for([p.id for p in probes], timeout_s=3)
        if len(arrived) == len(probes):
            await asyncio.sleep(0.5)
            tap.forget()
            return
        attempt += 1
    raise TimeoutError(f"the baseline echo did not answer within {timeout_s} s")
