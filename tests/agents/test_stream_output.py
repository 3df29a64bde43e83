"""Streamed answers without Kafka: the relay's numbering and resets, live streaming through the output guards,
blocks, retries after partial output, and answers sent whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents import stream_output
from agents.chunk_relay import ChunkRelay, pieces
from agents.guarding import Guarding
from agents.job import Job
from gateway.completion import CompletionOutcome
from gateway.providers.base import DeltaSink
from gateway.resilience.chain import Route
from gateway.settings import load_settings
from guards.pii_guard import PiiOutputGuard
from schemas.chunk import StreamChunk
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo
from tests.support.completers import ROUTE, ScriptedCompleter, outcome
from tests.support.factories import make_job, make_request

SETTINGS = load_settings()
GUARD = PiiOutputGuard()
ANSWER = "Sure. " + "The order left the warehouse this morning and should arrive soon. " * 3


@dataclass
class Chunks:
    """A chunk sink that keeps what it was sent."""

    sent: list[StreamChunk] = field(default_factory=list)
    flushed: int = 0

    async def send(self, chunk: StreamChunk) -> None:
        self.sent.append(chunk)

    async def delivered(self) -> None:
        self.flushed += 1

    def text(self) -> str:
        """The client's view: the deltas since the last reset."""
        view = ""
        for chunk in self.sent:
            view = chunk.delta if chunk.reset else view + chunk.delta
        return view


def _streaming(policy: dict[str, object] | None = None) -> tuple[stream_output.Streaming, Chunks]:
    guards = SETTINGS.guards.model_copy(update=policy or {})
    sink = Chunks()
    return stream_output.Streaming(Guarding(guards, (), (GUARD,)), lambda request: sink), sink


def _job(text: str = "Where is my order?", **fields: object) -> Job:
    return make_job(make_request(text, stream=True, **fields), route=ROUTE)


async def _run(job: Job, completer: object, streaming: stream_output.Streaming) -> Job:
    """The complete stage, then what settlement does (as in streams.runtime.pipeline._finish)."""
    done = await stream_output.complete(job, completer, SETTINGS, streaming, max_request_s=30)  # type: ignore[arg-type]
    assert streaming.guarding is not None
    done = streaming.guarding.finish_output(done, fresh=not stream_output.output_guarded(done))
    done = streaming.guarding.finish_output(done, fresh=False)
    await stream_output.settle(done, streaming)
    return done


# --- the relay --------------------------------------------------------------------------------------------------


async def test_the_relay_sends_only_what_is_new_and_resets_on_a_contradiction() -> None:
    sink = Chunks()
    relay = ChunkRelay("r-1", sink)
    await relay.show("Hello")
    await relay.show("Hello, wor")
    await relay.show("Hel")  # a retry catching up: nothing
    await relay.show("Hello, world")
    await relay.show("Howdy")  # the retry answered differently
    await relay.settle("Howdy, partner")
    assert [(c.seq, c.delta, c.reset) for c in sink.sent] == [
        (0, "Hello", False),
        (1, ", wor", False),
        (2, "ld", False),
        (3, "Howdy", True),
        (4, ", partner", False),
    ]
    assert sink.text() == "Howdy, partner" and relay.resets == 1


def test_pieces_join_back_and_cut_after_spaces() -> None:
    parts = pieces(ANSWER, 20)
    assert "".join(parts) == ANSWER and all(len(p) <= 20 for p in parts)
    assert all(p.endswith(" ") for p in parts[:-1])
    assert pieces("") == [] and pieces("x" * 50, 20) == ["x" * 20, "x" * 20, "x" * 10]


# --- live streaming ---------------------------------------------------------------------------------------------


async def test_a_live_answer_streams_in_order_and_equals_the_result_output() -> None:
    streaming, sink = _streaming()
    done = await _run(_job(), ScriptedCompleter([outcome(ANSWER)]), streaming)
    assert done.status == "ok" and done.output == ANSWER
    assert stream_output.output_guarded(done)
    assert [c.seq for c in sink.sent] == list(range(len(sink.sent))) and len(sink.sent) > 1
    assert not any(c.reset for c in sink.sent)
    assert "".join(c.delta for c in sink.sent) == ANSWER and sink.flushed == 1


async def test_pii_in_a_live_answer_is_redacted_in_every_chunk_and_the_output() -> None:
    streaming, sink = _streaming()
    text = ANSWER + "Call us on +1 415 555 0132 or write to help@example.com any time. " + ANSWER
    done = await _run(_job(), ScriptedCompleter([outcome(text)], piece_chars=3), streaming)
    assert done.output is not None and "<PHONE_NUMBER>" in done.output and "<EMAIL_ADDRESS>" in done.output
    assert sink.text() == done.output
    assert not any(fragment in c.delta for c in sink.sent for fragment in ("415", "555", "0132", "help@"))
    assert {v.guard: v.entities for v in done.guards} == {"pii_output": {"PHONE_NUMBER": 1, "EMAIL_ADDRESS": 1}}


async def test_a_blocked_live_answer_stops_the_chunks_and_fails_with_the_stable_code() -> None:
    streaming, sink = _streaming({"pii_output": "block"})
    text = ANSWER + "Call us on +1 415 555 0132 any time. " + ANSWER
    done = await _run(_job(), ScriptedCompleter([outcome(text)]), streaming)
    assert done.status == "error" and done.error is not None and done.error.code is ErrorCode.GUARDRAIL_BLOCKED
    assert done.output is None and done.error.limit == "pii_output.pii_output"
    assert text.startswith(sink.text()) and "415" not in sink.text()
    assert [v.action for v in done.guards] == ["block"]


async def test_the_clients_values_are_put_back_in_the_chunks() -> None:
    streaming, sink = _streaming({"pii_restore": True})
    job = _job().evolve(restore=(("<EMAIL_ADDRESS_1>", "ann@example.org"),))
    text = ANSWER + "I will write to <EMAIL_ADDRESS_1> today. " + ANSWER
    done = await _run(job, ScriptedCompleter([outcome(text)], piece_chars=2), streaming)
    assert done.output == sink.text() == text.replace("<EMAIL_ADDRESS_1>", "ann@example.org")
    assert not any(c.reset for c in sink.sent)


@dataclass
class RetryingCompleter:
    """Streams part of ``first`` as a failed attempt, then all of ``second``."""

    first: str
    second: str

    async def complete(
        self, request: LLMRequest, route: Route, *, deadline: float, on_delta: DeltaSink | None = None, **_: object
    ) -> CompletionOutcome:
        assert on_delta is not None
        await on_delta.started()
        for at in range(0, len(self.first) * 2 // 3, 5):
            await on_delta.delta(self.first[at : at + 5])
        await on_delta.started()
        for at in range(0, len(self.second), 5):
            await on_delta.delta(self.second[at : at + 5])
        return outcome(self.second)


async def test_a_retry_with_the_same_text_sends_nothing_twice() -> None:
    streaming, sink = _streaming()
    done = await _run(_job(), RetryingCompleter(ANSWER * 2, ANSWER * 2), streaming)
    assert "".join(c.delta for c in sink.sent) == done.output == ANSWER * 2
    assert not any(c.reset for c in sink.sent)


async def test_a_retry_with_another_text_is_announced_by_a_reset() -> None:
    streaming, sink = _streaming()
    other = "Another answer entirely, " * 8
    done = await _run(_job(), RetryingCompleter(ANSWER * 2, other), streaming)
    assert done.output == other and sink.text() == other
    assert sum(c.reset for c in sink.sent) == 1


# --- answers sent whole -----------------------------------------------------------------------------------------


async def test_a_schema_bound_request_is_not_streamed_live_but_sent_whole_before_its_result() -> None:
    streaming, sink = _streaming()
    job = _job(response_format={"type": "object"})
    done = await stream_output.complete(
        job, ScriptedCompleter([outcome('{"a": 1}')]), SETTINGS, streaming, max_request_s=30
    )
    assert sink.sent == [] and not stream_output.output_guarded(done)
    await stream_output.settle(done, streaming)
    assert sink.text() == '{"a": 1}'


async def test_a_cache_hit_is_streamed_from_its_text() -> None:
    streaming, sink = _streaming()
    job = _job().evolve(status="ok", output=ANSWER, cached=True, cache_hit="exact")
    await stream_output.settle(job, streaming)
    assert "".join(c.delta for c in sink.sent) == ANSWER and len(sink.sent) > 1


async def test_an_answer_that_arrived_without_deltas_is_guarded_whole() -> None:
    streaming, sink = _streaming()

    @dataclass
    class Stored:
        async def complete(self, request: LLMRequest, route: Route, **_: object) -> CompletionOutcome:
            return outcome(ANSWER)  # e.g. replayed from the completion store: no stream

    done = await stream_output.complete(_job(), Stored(), SETTINGS, streaming, max_request_s=30)  # type: ignore[arg-type]
    assert done.output == ANSWER and not stream_output.output_guarded(done) and sink.sent == []


async def test_requests_without_stream_get_no_chunks() -> None:
    streaming, sink = _streaming()
    job = make_job(make_request(), status="ok", output=ANSWER)
    await stream_output.settle(job, streaming)
    assert sink.sent == [] and sink.flushed == 0


async def test_a_refused_streamed_request_gets_no_chunks() -> None:
    streaming, sink = _streaming()
    job = _job().fail(ErrorInfo(code=ErrorCode.RATE_LIMITED, message="slow down"), status="rejected")
    await stream_output.settle(job, streaming)
    assert sink.sent == []
