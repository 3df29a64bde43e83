"""Redis for tests: the configured one when it answers, else a private ``redis-server`` for the session.

Never a mock: when neither works the ``redis_url`` fixture fails with :class:`RedisUnavailable`'s message.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class RedisUnavailable(RuntimeError):
    """No Redis answers and none could be started."""


def redis_answers(url: str, timeout_s: float = 1.0) -> bool:
    """Whether a Redis server at ``url`` answers PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@contextmanager
def redis_session(work_dir: Path) -> Iterator[str]:
    """Yield a Redis URL: ``REDIS_URL`` (or the default) if it answers, else one of a private server."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if redis_answers(url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(
            f"no Redis answers at {url} and redis-server is not on PATH; start Redis or set REDIS_URL"
        )
    with _private_server(binary, work_dir) as private_url:
        yield private_url


@contextmanager
def _private_server(binary: str, work_dir: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    work_dir.mkdir(parents=True, exist_ok=True)
    log = work_dir / "redis.log"
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(work_dir),
        "--logfile",
        str(log),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not redis_answers(url, timeout_s=0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RedisUnavailable(f"private redis-server on port {port} did not start; see {log}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class StoppableRedis:
    """A private ``redis-server`` on a fixed port that a test can stop and start again (no persistence)."""

    def __init__(self, work_dir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("redis-server is not on PATH")
        self._binary = binary
        self._work_dir = work_dir
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        argv = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self._work_dir), "--logfile", str(self._work_dir / "redis.log")]  # fmt: skip
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while not redis_answers(self.url, timeout_s=0.5):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RedisUnavailable(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (its data is gone)."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None
