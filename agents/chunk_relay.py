"""The chunk events of one streamed request: numbered, never repeated, always ending equal to the result.

:class:`ChunkRelay` keeps what the client was sent so far (since its last reset) and turns each new view of the
answer into chunk events:

- a view that extends what was sent sends only the new text;
- a view that is still a prefix of what was sent (a retry or fallback catching up after partial output) sends
  nothing: already-sent text is never sent twice;
- a view that contradicts what was sent (the retry answered differently) sends one chunk with ``reset: true``
  carrying the new view whole; the client drops what it had.

:meth:`ChunkRelay.settle` brings the client to the final output, so the result's ``output`` always equals the
deltas since the last reset. Sending goes through a :class:`ChunkSink` the runtime supplies (a Kafka producer on
the request's ``reply_to``, keyed by its id); a failed send is the sink's to log: the result, which carries the
whole answer, is still sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from schemas.chunk import StreamChunk
from schemas.request import LLMRequest

PIECE_CHARS = 48
"""Size (in characters, cut after a space) of the chunks of an answer sent whole (a cache hit, a validated one)."""


class ChunkSink(Protocol):
    """Where one request's chunk events go, in order."""

    async def send(self, chunk: StreamChunk) -> None:
        """Queue ``chunk`` after the ones before it; never raises (a failure is logged and counted)."""
        ...

    async def delivered(self) -> None:
        """Wait until every chunk queued so far is on the broker (or its send failed)."""
        ...


OpenSink = Callable[[LLMRequest], ChunkSink]


def pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """``text`` in pieces of about ``size`` characters, each cut after a space where there is one."""
    out: list[str] = []
    at = 0
    while at < len(text):
        end = min(len(text), at + size)
        if end < len(text):
            space = text.rfind(" ", at + 1, end)
            end = space + 1 if space >= 0 else end
        out.append(text[at:end])
        at = end
    return out


@dataclass
class ChunkRelay:
    """The chunks sent for one request (see the module docstring)."""

    request_id: str
    sink: ChunkSink
    sent: str = ""
    seq: int = 0
    resets: int = 0

    async def show(self, text: str) -> None:
        """Bring the client's view to ``text``, the current attempt's answer so far."""
        if text.startswith(self.sent):
            if len(text) > len(self.sent):
                await self._emit(text[len(self.sent) :], reset=False)
        elif not self.sent.startswith(text):
            await self._emit(text, reset=True)

    async def settle(self, final: str) -> None:
        """Bring the client's view to exactly ``final`` (the result's output), in pieces where it grows."""
        if final == self.sent:
            return
        if final.startswith(self.sent):
            for piece in pieces(final[len(self.sent) :]):
                await self._emit(piece, reset=False)
            return
        first, *rest = pieces(final) or [""]
        await self._emit(first, reset=True)
        for piece in rest:
            await self._emit(piece, reset=False)

    async def _emit(self, delta: str, *, reset: bool) -> None:
        chunk = StreamChunk(id=self.request_id, seq=self.seq, delta=delta, reset=reset)
        self.seq += 1
        if reset:
            self.resets += 1
            self.sent = delta
        else:
            self.sent += delta
        await self.sink.send(chunk)
