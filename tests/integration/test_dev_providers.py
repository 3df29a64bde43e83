"""``streamgate dev`` with a provider configured: its calls go to its own server, the simulator serves the rest.

The "local OpenAI-compatible server" (vLLM, Ollama, a company proxy) is a second simulator process on its own
port; its ``/_sim/stats`` shows which requests reached it. The same stack checks ``streamgate send``'s exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.devtools.dev import DevStack, _wait_port, free_port
from tests.integration.helpers import publish, request, results_for
from tests.support.gateway import gateway_stack, simulator_stats

MAX_PROMPT_CHARS = 1000


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A separate OpenAI-compatible server on loopback; yields its base URL (without ``/v1``)."""
    port = free_port()
    log = (tmp_path_factory.mktemp("local-server") / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "simulate", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_port(port, proc, timeout_s=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, redis_url: str, local_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevStack]:
    """A dev stack whose OpenAI provider is configured (base URL + key); Anthropic is left unconfigured."""
    env = {
        "OPENAI_BASE_URL": f"{local_server}/v1",
        "OPENAI_API_KEY": "sk-local-secret",
        "STREAMGATE_GUARDS__MAX_PROMPT_CHARS": str(MAX_PROMPT_CHARS),
    }
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path_factory.mktemp("dev"), extra_env=env) as running:
        yield running


def _stats(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/_sim/stats", timeout=5) as response:
        stats: dict[str, Any] = json.load(response)
        return stats


async def test_a_configured_provider_keeps_its_server_and_the_simulator_serves_the_rest(
    stack: DevStack, local_server: str
) -> None:
    assert stack.simulator_url is not None and stack.simulator_url != local_server
    to_openai = request("which server answers?", model="gpt-4o-mini")
    to_anthropic = request("and this one?", model="claude-3-5-haiku")
    await publish(stack, [to_openai, to_anthropic])
    found = await results_for(stack, [to_openai["id"], to_anthropic["id"]])
    assert found[to_openai["id"]][0]["status"] == "ok"
    assert found[to_anthropic["id"]][0]["status"] == "ok"
    local_calls = _stats(local_server)["calls_per_request_id"]
    dev_calls = simulator_stats(stack)["calls_per_request_id"]
    assert local_calls.get(to_openai["id"]) == 1 and to_openai["id"] not in dev_calls
    assert dev_calls.get(to_anthropic["id"]) == 1 and to_anthropic["id"] not in local_calls


def test_dev_says_which_provider_goes_where_without_keys(stack: DevStack, local_server: str) -> None:
    described = stack.describe()
    assert described["providers"] == {
        "openai": f"{local_server}/v1 (configured)",
        "anthropic": f"simulator {stack.simulator_url}",
    }
    assert "sk-local-secret" not in json.dumps(described)


def _send(stack: DevStack, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``streamgate send`` as a user runs it, against this stack's broker and topics."""
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "send", *args, "--timeout", "60"],
        env={**os.environ, **stack.extra_env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "status", "exit_code"),
    [
        (("hello there",), "ok", 0),
        (("x" * (MAX_PROMPT_CHARS + 1),), "rejected", 1),
        (("hello", "--model", "no-such-model"), "rejected", 1),
        (("our fault #sim:status=400",), "error", 1),
    ],
)
def test_send_exits_non_zero_unless_the_result_is_ok(
    stack: DevStack, tmp_path: Path, args: tuple[str, ...], status: str, exit_code: int
) -> None:
    done = _send(stack, tmp_path, *args)
    assert json.loads(done.stdout)["status"] == status, done.stderr
    assert done.returncode == exit_code
