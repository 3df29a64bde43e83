"""A running gateway for integration tests: the session broker, a simulator and worker subprocesses.

Each stack gets its own app id and topic names, so tests sharing the session broker never see each other's
events, and drives the pipeline only through Kafka, as a client would.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.settings import Settings, TopicNames, load_settings
from streams.devtools.dev import DevStack, Progress, run_blocking

PROVIDER_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")
"""Provider variables a test may put in the stack's environment (the settings field is the lower-case name)."""


def stack_env(prefix: str, bootstrap: str, redis_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the stack's subprocesses: isolated names plus anything a test adds."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REDIS_URL": redis_url,
        "STREAMGATE_APP_ID": prefix,
        "STREAMGATE_TOPICS__REQUESTS": f"{prefix}.requests",
        "STREAMGATE_TOPICS__RESULTS": f"{prefix}.results",
        "STREAMGATE_TOPICS__USAGE": f"{prefix}.usage",
        "STREAMGATE_TOPICS__DLQ": f"{prefix}.dlq",
        "STREAMGATE_TOPICS__ALERTS": f"{prefix}.alerts",
        "STREAMGATE_TOPICS__ADMIT": f"{prefix}.admit",
        "STREAMGATE_TOPICS__SETTLE": f"{prefix}.settle",
        "STREAMGATE_PARTITIONS": "4",
    }
    env.update(extra or {})
    return env


def settings_for(env: dict[str, str], config_file: Path | None = None) -> Settings:
    """The same settings the subprocesses will build from ``env`` (tests never mutate os.environ)."""
    prefix = env["STREAMGATE_APP_ID"]
    topics = TopicNames(
        requests=f"{prefix}.requests",
        results=f"{prefix}.results",
        usage=f"{prefix}.usage",
        dlq=f"{prefix}.dlq",
        alerts=f"{prefix}.alerts",
        admit=f"{prefix}.admit",
        settle=f"{prefix}.settle",
    )
    providers = {var.lower(): env[var] for var in PROVIDER_VARS if var in env}
    return load_settings(
        config_file,
        **providers,
        kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        redis_url=env["REDIS_URL"],
        app_id=prefix,
        topics=topics,
        partitions=4,
    )


@contextmanager
def gateway_stack(
    bootstrap: str,
    redis_url: str,
    work_dir: Path,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    config_file: Path | None = None,
    simulator_latency_ms: float = 0.0,
    progress: Progress | None = None,
    config_toml: str | None = None,
    worker_loglevel: str = "warn",
) -> Iterator[DevStack]:
    """Start a stack and wait until a probe request is answered end to end; ``config_toml`` is written to a config
    file in ``work_dir`` for the stack (instead of ``config_file``)."""
    if config_toml is not None:
        config_file = work_dir / "stack.toml"
        config_file.write_text(config_toml)
    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    env = stack_env(prefix, bootstrap, redis_url, extra_env)
    stack = DevStack(
        settings_for(env, config_file),
        workers=workers,
        config_file=config_file,
        log_dir=work_dir / "logs",
        extra_env=env,
        simulator_latency_ms=simulator_latency_ms,
        progress=progress,
        worker_loglevel=worker_loglevel,
    )
    with stack:
        run_blocking(stack.wait_ready())
        yield stack


def simulator_stats(stack: DevStack) -> dict[str, Any]:
    """The simulator's ``/_sim/stats``."""
    assert stack.simulator_url is not None
    with urllib.request.urlopen(f"{stack.simulator_url}/_sim/stats", timeout=5) as response:
        stats: dict[str, Any] = json.load(response)
        return stats


def set_fault(stack: DevStack, **fields: Any) -> None:
    """POST ``/_sim/faults`` (``model`` names the upstream model, or "*")."""
    stack.simulator_fault(**fields)


def clear_faults(stack: DevStack) -> None:
    """DELETE ``/_sim/faults``: every model's faults are cleared."""
    assert stack.simulator_url is not None
    urllib.request.urlopen(urllib.request.Request(f"{stack.simulator_url}/_sim/faults", method="DELETE"), timeout=5)


def wait_idle(stack: DevStack, timeout_s: float = 180.0) -> None:
    """Block until no worker of ``stack`` has a request in flight (``/status``), e.g. before asserting exact
    deltas of worker-wide counters on a stack an earlier module may have left a slow request on."""
    deadline = time.monotonic() + timeout_s
    for port in stack.worker_ports:
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
                in_flight = int(json.load(response)["in_flight"])
            if in_flight == 0:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{in_flight} requests still in flight after {timeout_s} s")
            time.sleep(0.2)
