"""A steady request stream for the chaos scenarios, and what it takes to read back every output channel.

The stream spreads requests over a few tenants and users, keys half of them by tenant (screened where they land)
and half not (through ``streamgate.admit``), bypasses the answer cache (so every ``ok`` answer needs exactly one
paid provider call) and makes every tenth call slow, so a fault always finds calls in flight.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

TENANTS = tuple(f"chaos-{n}" for n in range(4))
USERS = ("ann", "bob")
MODEL = "gpt-4o-mini"
MAX_TOKENS = 16
SLOW_EVERY = 10
SLOW_MS = 1500


def chaos_config(path: Path, *, extra: str = "") -> Path:
    """A config with generous day-long limits for the stream's tenants (so nothing is refused and no window
    rolls during a run), only the cheap admission guards (the scenarios are about delivery, not content), and
    ``extra`` appended."""
    generous = "requests_per_window = 1000000\ntokens_per_window = 1000000000\nwindow_s = 86400\nusd_per_day = 1000.0\n"
    body = '[guards]\nenabled = ["size", "response_format"]\n'
    for tenant in TENANTS:
        body += f"[limits.tenants.{tenant}.tenant]\n{generous}[limits.tenants.{tenant}.user_default]\n{generous}"
    path.write_text(body + extra)
    return path


def chaos_request(run: str, n: int) -> dict[str, Any]:
    """Request ``n`` of run ``run``: a distinct prompt, tenant ``n % 4``, user ``n // 4 % 2``."""
    slow = f" #sim:sleep_ms={SLOW_MS}" if n % SLOW_EVERY == 0 else ""
    return {
        "v": 1,
        "id": f"{run}-{n:05d}",
        "tenant": TENANTS[n % len(TENANTS)],
        "user": USERS[n // len(TENANTS) % len(USERS)],
        "model": MODEL,
        "max_tokens": MAX_TOKENS,
        "cache": {"mode": "bypass"},
        "messages": [{"role": "user", "content": f"chaos request {n} of {run}{slow}"}],
    }


@dataclass
class Stream:
    """Publishes ``count`` requests at ``rate`` per second; ``sent`` is every id whose publish the broker acked."""

    bootstrap: str
    topic: str
    count: int
    rate: float
    run: str = field(default_factory=lambda: f"c{uuid.uuid4().hex[:8]}")
    sent: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    async def publish(self) -> None:
        """Publish the whole stream, pacing to ``rate``; a send the broker refuses is retried until acked."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5, request_timeout_ms=60_000)
        await producer.start()
        self.started = time.monotonic()
        try:
            for n in range(self.count):
                await asyncio.sleep(max(0.0, self.started + n / self.rate - time.monotonic()))
                doc = chaos_request(self.run, n)
                key = doc["tenant"].encode() if n % 2 else None
                await _send_until_acked(producer, self.topic, orjson.dumps(doc), key)
                self.sent.append(doc["id"])
        finally:
            self.finished = time.monotonic()
            await producer.stop()

    @property
    def ids(self) -> list[str]:
        """Every id of the stream (published or not)."""
        return [f"{self.run}-{n:05d}" for n in range(self.count)]


async def _send_until_acked(producer: AIOKafkaProducer, topic: str, value: bytes, key: bytes | None) -> None:
    while True:
        try:
            await (await producer.send(topic, value, key=key))
            return
        except Exception:  # the broker frozen or away: a client retries its publish
            await asyncio.sleep(0.5)
