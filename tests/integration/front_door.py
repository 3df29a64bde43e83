"""A running ``streamgate serve`` (the HTTP front door) on the signed stack, as its operator would start it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anthropic
import openai

from streamgate.server import keys as keys_module
from streams.devtools.dev import DevStack, free_port


@dataclass
class Door:
    """A running `streamgate serve` and the keys made for it."""

    url: str
    stack: DevStack
    key: str  # acme / alice
    tight_key: str  # tight / pat: one request per window

    def openai(self, key: str | None = None) -> openai.OpenAI:
        """An OpenAI SDK client of the front door (``key``: another API key than acme/alice's)."""
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key or self.key, max_retries=0)

    def anthropic(self, key: str | None = None) -> anthropic.Anthropic:
        """An Anthropic SDK client of the front door (``key``: another API key than acme/alice's)."""
        return anthropic.Anthropic(base_url=self.url, api_key=key or self.key, max_retries=0)


def add_key(env: dict[str, str], keys: Path, tenant: str, user: str) -> str:
    """``streamgate keys add`` as an operator runs it; the new API key it prints."""
    command = [sys.executable, "-m", "streams.cli", "keys", "add", "--tenant", tenant, "--user", user, "--keys"]
    out = subprocess.run([*command, str(keys)], env=env, capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip()


@contextmanager
def front_door(stack: DevStack, work: Path) -> Iterator[Door]:
    """``streamgate serve`` with the stack's config file and two keys made for it (acme/alice, tight/pat)."""
    assert stack.config_file is not None
    env = {**os.environ, **stack.extra_env, "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap}
    keys = work / "keys.toml"
    key, tight = add_key(env, keys, "acme", "alice"), keys_module.add_key(keys, "tight", "pat")
    assert key not in keys.read_text() and "sha256:" in keys.read_text()  # only digests are stored
    port = free_port()
    command = [sys.executable, "-m", "streams.cli", "--config", str(stack.config_file), "serve", "--port", str(port)]
    with (work / "serve.log").open("wb") as log:
        proc = subprocess.Popen([*command, "--keys", str(keys)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, work / "serve.log")
        yield Door(url=url, stack=stack, key=key, tight_key=tight)
    finally:
        proc.terminate()
        proc.wait(20)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60.0) -> None:
    """Block until the front door's ``/healthz`` answers (fails at once if the process exited)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(log.read_text())
