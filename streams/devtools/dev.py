"""Dev mode: a broker, the provider simulator and workers on this machine, with nothing to install or configure.

The broker is ``KAFKA_BOOTSTRAP_SERVERS`` when set (reached with the ``[kafka]`` security settings), else the
embedded Tansu broker on a free loopback port (PLAINTEXT, whatever ``[kafka]`` says). The
simulator serves every provider the settings leave unconfigured (no API key, no base URL); a configured one keeps
its own endpoint (:mod:`streams.devtools.provider_routes`), and no simulator runs when all are configured.
Workers are ``streamgate worker`` subprocesses, so they can be killed and restarted like production ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from gateway.kafka_security import KafkaConnection
from gateway.settings import Settings
from schemas.request import ChatMessage, LLMRequest
from streams.devtools.client import GatewayClient, new_request_id
from streams.devtools.embedded_broker import EmbeddedBroker
from streams.devtools.provider_routes import ProviderRoute, describe_routes, routes_of, simulator_env
from streams.runtime.admin import ensure_topics
from streams.runtime.worker import topic_specs

T = TypeVar("T")

Progress = Callable[[str], None]
"""Receives start-up progress text as it happens, newlines included (``None``: a quiet stack, for tests)."""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DevStack:
    """Broker + simulator + N workers as subprocesses; a context manager that tears everything down."""

    settings: Settings
    workers: int = 1
    config_file: Path | None = None
    log_dir: Path = field(default_factory=lambda: Path(".streamgate/logs"))
    simulator_latency_ms: float = 0.0
    extra_env: dict[str, str] = field(default_factory=dict)
    progress: Progress | None = None
    worker_loglevel: str = "warn"
    bootstrap: str = ""
    simulator_url: str | None = None
    worker_ports: list[int] = field(default_factory=list)
    _broker: EmbeddedBroker | None = None
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def kafka(self) -> KafkaConnection:
        """How this stack's clients reach its broker: ``[kafka]``'s security for a configured one, else PLAINTEXT."""
        if self._broker is not None:
            return KafkaConnection(self.bootstrap)
        return self.settings.kafka_connection(self.bootstrap)

    def __enter__(self) -> DevStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (e.g. `timeout`) unwinds through __exit__ like Ctrl-C does, so nothing is left running.
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            self._start()
        except BaseException:  # a step that fails (e.g. a slow simulator) must not leave the others running
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        if self.settings.kafka_bootstrap_servers:
            self.bootstrap = self.settings.kafka_bootstrap_servers
        else:
            with self._step("starting broker"):
                self._broker = EmbeddedBroker(self.log_dir).start()
            self.bootstrap = self._broker.bootstrap_servers
        with self._step("creating topics"):
            run_blocking(ensure_topics(self.kafka, topic_specs(self.settings)))
        simulator_port = free_port() if self.needs_simulator else None
        if simulator_port is not None:
            # Spawned first and waited for last: the workers import while it does (nothing calls a provider
            # before a request arrives, and none is sent before this returns).
            args = ["simulate", "--port", str(simulator_port), "--latency-ms", str(self.simulator_latency_ms)]
            self._spawn("simulator", args)
            self.simulator_url = f"http://127.0.0.1:{simulator_port}"
        for index in range(self.workers):
            with self._step(f"starting worker-{index}"):
                self.start_worker(index)
        if simulator_port is not None:
            with self._step("simulator"):
                _wait_port(simulator_port, self._procs["simulator"], timeout_s=90)

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        """Report ``name… ok (1.2 s)`` (or ``failed``) to :attr:`progress` around one start-up step."""
        if self.progress is None:
            yield
            return
        started = time.monotonic()
        self.progress(f"{name}… ")
        try:
            yield
        except BaseException:
            self.progress("failed\n")
            raise
        self.progress(f"ok ({time.monotonic() - started:.1f} s)\n")

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self._stop_all(list(self._procs))
        if self._broker is not None:
            self._broker.stop()

    @property
    def provider_routes(self) -> dict[str, ProviderRoute]:
        """Each provider to its configured endpoint or to the simulator."""
        return routes_of(self.settings)

    @property
    def needs_simulator(self) -> bool:
        """True when some provider has neither an API key nor a base URL configured."""
        return any(route.simulated for route in self.provider_routes.values())

    def worker_env(self, index: int) -> dict[str, str]:
        """Environment of worker ``index`` (everything else it reads from the same settings sources)."""
        env = {
            **os.environ,
            **self.extra_env,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PYTHONUNBUFFERED": "1",
        }
        if self._broker is not None:  # the embedded broker speaks PLAINTEXT only
            env["STREAMGATE_KAFKA__SECURITY_PROTOCOL"] = "PLAINTEXT"
        env["STREAMGATE_WEB_PORT"] = str(self.worker_ports[index])
        env["STREAMGATE_DATA_DIR"] = str(self.log_dir.parent / f"worker-{index}")
        if self.simulator_url is not None:
            env.update(simulator_env(self.provider_routes, self.simulator_url))
        return env

    def start_worker(self, index: int) -> None:
        """Start (or restart) worker ``index``."""
        while len(self.worker_ports) <= index:
            self.worker_ports.append(free_port())
        self._spawn(f"worker-{index}", ["worker", "--loglevel", self.worker_loglevel], env=self.worker_env(index))

    def kill(self, name: str) -> None:
        """SIGKILL a process of the stack (crash simulation)."""
        proc = self._procs.pop(name)
        proc.kill()
        proc.wait()

    def stop(self, name: str, timeout_s: float = 15.0) -> int:
        """Stop a process of the stack gracefully (SIGTERM, then SIGKILL after ``timeout_s``); its exit status
        (``-9`` when it had to be killed)."""
        return self._stop_all([name], timeout_s)[name]

    def _stop_all(self, names: list[str], timeout_s: float = 15.0) -> dict[str, int]:
        """Stop these processes gracefully, all at once (each shuts down while the others do); exit statuses."""
        procs = {name: self._procs.pop(name) for name in names}
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in procs.values():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return {name: proc.returncode for name, proc in procs.items()}

    def pid(self, name: str) -> int:
        """The process id of a running process of the stack (``worker-0``, ``simulator``)."""
        return self._procs[name].pid

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "streams.cli"]
        if self.config_file is not None:
            command += ["--config", str(self.config_file)]
        with (self.log_dir / f"{name}.log").open("wb") as log:
            self._procs[name] = subprocess.Popen(
                command + args,
                preexec_fn=_die_with_parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env or {**os.environ, **self.extra_env},
                start_new_session=True,
            )

    def describe(self) -> dict[str, object]:
        """Where everything is (also written to ``.streamgate/dev.json`` by ``streamgate dev``)."""
        return {
            "kafka_bootstrap_servers": self.bootstrap,
            "embedded_broker": self._broker is not None,
            "simulator": self.simulator_url,
            "providers": describe_routes(self.provider_routes, self.simulator_url),
            "workers": [f"http://127.0.0.1:{port}" for port in self.worker_ports],
            "logs": str(self.log_dir),
        }

    def simulator_fault(self, **fields: Any) -> None:
        """Set a fault on the simulator (``model`` is the upstream model name or "*"); see ``/_sim/faults``."""
        if self.simulator_url is None:
            raise RuntimeError("no simulator in this stack")
        request = urllib.request.Request(
            f"{self.simulator_url}/_sim/faults",
            data=json.dumps(fields).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    def wait_workers_ready(self, timeout_s: float = 90.0) -> None:
        """Block until every worker's ``/ready`` answers 200, reporting each to :attr:`progress`."""
        deadline = time.monotonic() + timeout_s
        for index, port in enumerate(self.worker_ports):
            with self._step(f"worker-{index}"):
                while not _is_ready(f"http://127.0.0.1:{port}/ready"):
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"worker-{index} not ready within {timeout_s} s; see {self.log_dir}")
                    time.sleep(0.2)

    async def wait_ready(self, timeout_s: float = 90.0) -> float:
        """Block until a probe request is answered end to end; returns the seconds it took."""
        started = time.monotonic()
        topics = self.settings.topics
        async with GatewayClient(self.kafka, requests_topic=topics.requests, results_topic=topics.results) as client:
            probe = LLMRequest(
                id=new_request_id("probe"),
                tenant="streamgate-probe",
                user="dev",
                messages=[ChatMessage(role="user", content="ping")],
                cache={"mode": "bypass"},
            )
            await client.publish([probe])
            found = await client.collect([probe.id], timeout_s=timeout_s)
        if probe.id not in found:
            raise TimeoutError(f"the pipeline did not answer a probe within {timeout_s} s; see {self.log_dir}")
        return time.monotonic() - started


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when the dev process dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return int(response.status) == 200
    except OSError:  # refused while starting, or HTTP 503 (an HTTPError is an OSError)
        return False


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Wait until something listens on ``port``; fail at once if ``process`` (the one that should) exits.

    The timeout is generous because an import-heavy process starts slowly on a loaded machine; a dead one is not
    waited for."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process that should listen on port {port} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


def write_state(stack: DevStack, path: Path) -> None:
    """Record where the dev stack is, so ``streamgate send`` finds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stack.describe(), indent=2))
