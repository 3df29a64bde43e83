"""Streamed answers (``stream: true``): chunk events on ``reply_to`` while the model writes, guards included.

Two ways a streamed request's chunks are made:

- **live**: a one-step route without ``response_format``, every output guard able to check a stream
  (:class:`guards.base.StreamingGuard`): the provider call streams, and each attempt's text goes through the output
  guards' windows (PII redaction holds back a window, :mod:`guards.pii.stream_window`), then the client's own
  values are put back (``pii_restore``), then out through the :class:`~agents.chunk_relay.ChunkRelay` as it is
  released. The guards have then seen the whole answer: :func:`output_guarded` tells settlement not to run them
  again, and the job's ``output`` is the redacted text the cache stores.
- **whole**: everything else (a cascade or a ``response_format`` answer must be judged whole first; a cache hit, a
  stored completion or a concurrent duplicate's answer arrives whole): the chunks are cut from the final output
  just before the result.

A block by an output guard stops the chunks at once (the provider's stream is still read to its end, so the usage
is exact) and the result is ``error`` / ``guardrail_blocked``. A retry or fallback after partial output is shown
through the relay: nothing already sent is sent again, and a differing answer is announced by a ``reset`` chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents import cascade as cascade_stage
from agents.chunk_relay import ChunkRelay, OpenSink
from agents.complete import complete as complete_call
from agents.guarding import Guarding, block_error
from agents.job import Job
from gateway.completion import Completer
from gateway.guard_policy import GuardPolicy
from gateway.settings import Settings
from guards.base import OutputStream, StreamingGuard, Verdict
from guards.pii.redact import restore
from schemas.result import GuardVerdict


@dataclass(frozen=True, slots=True)
class Streaming:
    """What a worker streams with: its guards and policies, and where each request's chunks go."""

    guarding: Guarding | None
    open_sink: OpenSink


@dataclass
class StreamState:
    """A streamed request's relay, and whether the output guards already ran on the live stream."""

    relay: ChunkRelay
    guarded: bool = False


def output_guarded(job: Job) -> bool:
    """True when the output guards already saw this job's answer while it streamed."""
    return isinstance(job.stream, StreamState) and job.stream.guarded


def streaming_guards(job: Job, streaming: Streaming) -> tuple[StreamingGuard, ...] | None:
    """The output guards of a job that can be streamed live, or ``None`` when its answer must be sent whole."""
    request, plan = job.request, job.plan
    if request.response_format is not None or (plan is not None and plan.is_cascade) or job.route is None:
        return None
    guards = tuple(streaming.guarding.output) if streaming.guarding is not None else ()
    if not all(isinstance(guard, StreamingGuard) for guard in guards):
        return None
    return tuple(guard for guard in guards if isinstance(guard, StreamingGuard))


class LiveAnswer:
    """The :class:`~gateway.providers.base.DeltaSink` of one live-streamed request.

    Each attempt gets fresh guard windows; the text they release (with the client's values put back) is shown
    through the relay. A block is final for the request: nothing more is shown, whatever later attempts say.
    """

    def __init__(
        self,
        relay: ChunkRelay,
        guards: Sequence[StreamingGuard],
        policy: GuardPolicy,
        pairs: Sequence[tuple[str, str]],
    ) -> None:
        self._relay, self._guards, self._policy, self._pairs = relay, guards, policy, tuple(pairs)
        self._longest = max((len(placeholder) for placeholder, _ in self._pairs), default=0)
        self._streams: list[OutputStream] = []
        self._raw: list[str] = []
        self._safe = ""
        self.blocked: tuple[str, Verdict] | None = None

    async def started(self) -> None:
        """A new attempt: fresh windows, nothing of it released yet."""
        self._streams = [guard.open_stream(self._policy) for guard in self._guards]
        self._raw, self._safe = [], ""

    async def delta(self, text: str) -> None:
        """Run the attempt's next piece through the guards and show what they release."""
        self._raw.append(text)
        if self.blocked is None:
            await self._release(self._through(text, closing=False), final=False)

    async def finish(self, answer: str) -> tuple[str, list[GuardVerdict]] | None:
        """After the call: release the rest and return ``(redacted output, verdicts)``; ``None`` when ``answer``
        was not streamed here (a stored or shared completion): it is then guarded and sent whole."""
        if self.blocked is None and "".join(self._raw) != answer:
            return None
        if self.blocked is None:
            await self._release(self._through("", closing=True), final=True)
        return self._safe, self._verdicts()

    def _through(self, text: str, *, closing: bool) -> str:
        for guard, stream in zip(self._guards, self._streams, strict=True):
            text = stream.feed(text) + (stream.close() if closing else "")
            if stream.blocked:
                self.blocked = (guard.name, stream.verdict())
                return ""
        return text

    async def _release(self, text: str, *, final: bool) -> None:
        if self.blocked is not None:
            return
        self._safe += text
        if text or final:
            await self._relay.show(self._visible(final=final))

    def _visible(self, *, final: bool) -> str:
        """The released text with the client's values back; an unfinished placeholder at its end waits."""
        if not self._pairs:
            return self._safe
        safe = self._safe
        opened = safe.rfind("<")
        if not final and opened >= 0 and ">" not in safe[opened:] and len(safe) - opened < self._longest:
            safe = safe[:opened]
        return restore(safe, self._pairs)

    def _verdicts(self) -> list[GuardVerdict]:
        verdicts = [
            stream.verdict().public(guard.name)
            for guard, stream in zip(self._guards, self._streams, strict=True)
            if stream.verdict().action != "pass"
        ]
        if self.blocked is not None and not verdicts:
            verdicts.append(self.blocked[1].public(self.blocked[0]))
        return verdicts


async def complete(
    job: Job, completer: Completer, settings: Settings, streaming: Streaming, *, max_request_s: float
) -> Job:
    """The complete stage for a streamed request: live when it can be (module docstring), else as usual."""
    state = StreamState(ChunkRelay(job.request.id, streaming.open_sink(job.request)))
    job = job.evolve(stream=state)
    guards = None if job.finished else streaming_guards(job, streaming)
    if guards is None:
        return await cascade_stage.complete_routed(job, completer, settings, max_request_s=max_request_s)
    policy = streaming.guarding.policy(job.request.tenant) if streaming.guarding is not None else GuardPolicy()
    live = LiveAnswer(state.relay, guards, policy, job.restore)
    done = await complete_call(job, completer, max_request_s=max_request_s, on_delta=live)
    if done.status != "ok" or done.output is None:
        return done
    finished = await live.finish(done.output)
    if finished is None:
        return done
    output, verdicts = finished
    guarded = done.evolve(guards=done.guards + tuple(verdicts), stream=StreamState(state.relay, guarded=True))
    if live.blocked is not None:
        name, verdict = live.blocked
        assert verdict.block is not None
        return guarded.evolve(output=None).fail(block_error(name, verdict.block))
    return guarded.evolve(output=output)


async def settle(job: Job, streaming: Streaming) -> None:
    """Before a streamed request's result: send what its chunks still lack of the final output, and wait until
    they are on the broker (the result may be sent by another worker, after the settle hop)."""
    if not job.request.stream:
        return
    state = job.stream if isinstance(job.stream, StreamState) else None
    if job.status == "ok" and job.output is not None:
        if state is None:
            state = StreamState(ChunkRelay(job.request.id, streaming.open_sink(job.request)))
        await state.relay.settle(job.output)
    if state is not None:
        await state.relay.sink.delivered()
