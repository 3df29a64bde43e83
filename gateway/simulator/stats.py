"""Call accounting of the simulator: every provider-API HTTP call, and separately the successful ones.

Calls are counted overall, per model and per ``X-Streamgate-Request-Id`` header value (the gateway's
request id), so an end-to-end test can check how many provider attempts one gateway request made. The body of
each call is also kept per request id (``GET /_sim/received?id=...``), so a test can check what a provider was
sent (e.g. that no PII reached it). A call
counts as *successful* when the simulator sent a well-formed 200 answer (a ``malformed`` 200 does not count).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

REQUEST_ID_HEADER = "X-Streamgate-Request-Id"
MAX_BODIES = 5_000


class SimStats:
    """Live counters; cheap enough to update on every call."""

    def __init__(self, *, max_request_ids: int = 100_000) -> None:
        self.max_request_ids = max_request_ids
        self.total_calls = 0
        self.total_ok = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.calls_per_model: Counter[str] = Counter()
        self.ok_per_model: Counter[str] = Counter()
        self._calls_per_request: dict[str, int] = {}
        self._ok_per_request: dict[str, int] = {}
        self._bodies_per_request: dict[str, list[str]] = {}

    def record_call(self, model: str, request_id: str | None) -> None:
        """Count one incoming call (before anything can fail)."""
        self.total_calls += 1
        self.calls_per_model[model] += 1
        if request_id is not None:
            self._bump(self._calls_per_request, request_id)

    def record_body(self, request_id: str | None, body: bytes) -> None:
        """Keep what one call sent, under its request id."""
        if request_id is None:
            return
        self._bodies_per_request.setdefault(request_id, []).append(body.decode("utf-8", "replace"))
        if len(self._bodies_per_request) > MAX_BODIES:  # bodies are big: a tighter bound than the counters
            del self._bodies_per_request[next(iter(self._bodies_per_request))]

    def received_for(self, request_id: str) -> list[str]:
        """The raw bodies of the calls made with this request id."""
        return list(self._bodies_per_request.get(request_id, ()))

    def record_success(self, model: str, request_id: str | None) -> None:
        """Count one call answered successfully."""
        self.total_ok += 1
        self.ok_per_model[model] += 1
        if request_id is not None:
            self._bump(self._ok_per_request, request_id)

    def enter(self) -> None:
        """A call started being handled (tracks concurrency)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        """A call finished being handled, whatever its outcome."""
        self.in_flight -= 1

    def _bump(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1
        if len(table) > self.max_request_ids:  # forget the oldest id so a long run stays bounded
            del table[next(iter(table))]

    def calls_for(self, request_id: str) -> int:
        """HTTP calls made with this request id, failed ones included."""
        return self._calls_per_request.get(request_id, 0)

    def successes_for(self, request_id: str) -> int:
        """Successful calls made with this request id."""
        return self._ok_per_request.get(request_id, 0)

    def calls_for_model(self, model: str) -> int:
        """HTTP calls made for this model name."""
        return self.calls_per_model[model]

    def reset(self) -> None:
        """Forget every count (``in_flight`` keeps tracking calls still running)."""
        self.total_calls = self.total_ok = 0
        self.peak_in_flight = self.in_flight
        self.calls_per_model.clear()
        self.ok_per_model.clear()
        self._calls_per_request.clear()
        self._ok_per_request.clear()
        self._bodies_per_request.clear()

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of every counter (the body of ``GET /_sim/stats``)."""
        return {
            "total_calls": self.total_calls,
            "total_ok": self.total_ok,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "calls_per_model": dict(self.calls_per_model),
            "ok_per_model": dict(self.ok_per_model),
            "calls_per_request_id": dict(self._calls_per_request),
            "ok_per_request_id": dict(self._ok_per_request),
        }
