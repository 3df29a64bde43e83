"""``streamgate bench --peers``: streamgate and the LiteLLM proxy side by side, one run, the same simulator upstream.

Both gateways get the same unique ~1 KB prompts (64 tenants / users), offered open-loop at the same rates with
the same 5 ms tick: streamgate's through Kafka (:func:`bench.load.offer`), LiteLLM's as HTTP posts to its OpenAI
route (:func:`offer_http`). Latency is measured from each request's due time, CPU from ``/proc`` for the gateway's
own process alone (a streamgate worker; the LiteLLM proxy and its children). LiteLLM runs from its own virtual
environment (``.streamgate/peers/litellm``, installed by ``make bench-peers`` from
``bench/litellm-requirements.txt`` with ``--require-hashes``), with one worker and no database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from bench.load import TICK_S, Arrival, Payload, Tap, new_producer, parse_result
from bench.machine import process_cpu_s
from bench.payloads import misses, run_tag
from bench.runs import RunResult, fixed_rate, result_of
from bench.stack import bench_stack, worker_pids
from bench.stats import percentile
from gateway.settings import Settings
from streams.devtools.dev import DevStack, free_port

PEER_VENV = Path(".streamgate/peers/litellm")
P99_BOUND_MS = 500.0
MODEL = "gpt-4o-mini"
MASTER_KEY = "sk-" + secrets.token_hex(32)


@dataclass(frozen=True, slots=True)
class PeerFigure:
    """One gateway at one offered rate."""

    gateway: str
    rate: float
    run: RunResult
    cpu_ms_per_request: float

    def line(self) -> str:
        """A printable row."""
        r = self.run
        verdict = "" if r.sustained(P99_BOUND_MS) else "  <- not sustained"
        return (
            f"  {self.gateway:<10} {self.rate:>5.0f} req/s: {r.answered}/{r.sent} answered, "
            f"{r.completion_rate:,.0f}/s out, CPU {self.cpu_ms_per_request:.2f} ms per request, "
            f"p50 {percentile(r.e2e_ms, 50):,.1f} ms, p99 {percentile(r.e2e_ms, 99):,.1f} ms{verdict}"
        )


def _litellm_config(path: Path, simulator_url: str) -> None:
    """A proxy config with the one bench model routed to the simulator's OpenAI API (no database, no key)."""
    path.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {simulator_url}/v1\n"
        "      api_key: sk-simulator\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
    )


@contextlib.contextmanager
def litellm_proxy(simulator_url: str, log_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The LiteLLM proxy (one worker) on a free port, answering; yields its base URL and process."""
    binary = PEER_VENV / "bin" / "litellm"
    if not binary.exists():
        raise SystemExit(f"no LiteLLM proxy at {binary}: run `make bench-peers` (it installs the pinned release)")
    log_dir.mkdir(parents=True, exist_ok=True)
    config = log_dir / "litellm.yaml"
    _litellm_config(config, simulator_url)
    port = free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR", "NO_DOCS": "True"}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env["LITELLM_MASTER_KEY"] = MASTER_KEY  # it refuses to start without one; no database: the key alone is checked
    with (log_dir / "litellm.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(binary), "--config", str(config), "--port", str(port), "--num_workers", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(_wait_answering(url, proc))
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _wait_answering(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the LiteLLM proxy exited with {proc.returncode}; see its log")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                body = {"model": MODEL, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 4}
                auth = {"authorization": f"Bearer {MASTER_KEY}"}
                async with session.post(f"{url}/v1/chat/completions", json=body, headers=auth) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.5)
    raise SystemExit("the LiteLLM proxy did not answer within 180 s")


def _openai_body(payload: Payload) -> bytes:
    """The OpenAI chat body of a bench request (the same prompt, user and max_tokens)."""
    doc = orjson.loads(payload.value)
    return orjson.dumps(
        {"model": MODEL, "messages": doc["messages"], "max_tokens": doc["max_tokens"], "user": doc["user"]}
    )


async def offer_http(url: str, payloads: Sequence[Payload], rate: float, timeout_s: float) -> RunResult:
    """Post ``payloads`` open-loop at ``rate``/s (the due ones every tick); latency from each one's due time."""
    due: dict[str, float] = {}
    arrivals: dict[str, Arrival] = {}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def post(payload: Payload) -> None:
            headers = {"content-type": "application/json", "authorization": f"Bearer {MASTER_KEY}"}
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with session.post(f"{url}/v1/chat/completions", data=_openai_body(payload), headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        arrivals[payload.id] = Arrival(time.time(), time.time(), {"status": "ok"})

        tasks: list[asyncio.Task[None]] = []
        start = time.time()
        sent = 0
        while sent < len(payloads):
            ready = min(len(payloads), int((time.time() - start) * rate) + 1)
            for k in range(sent, ready):
                due[payloads[k].id] = start + k / rate
                tasks.append(asyncio.ensure_future(post(payloads[k])))
            sent = ready
            if sent < len(payloads):
                await asyncio.sleep(max(TICK_S, start + sent / rate - time.time()))
        published = time.time() - start
        await asyncio.gather(*tasks)
    return result_of(rate, due, arrivals, published)


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and its live children (the proxy may fork its server)."""
    total = process_cpu_s(pid)
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):
                total += _tree_cpu_s(int(child))
    return total


async def _streamgate_at(stack: DevStack, rate: float, seconds: float) -> PeerFigure:
    topics = stack.settings.topics
    payloads = misses(run_tag(), "peer", int(rate * seconds))
    tap = await Tap(stack.bootstrap, topics.results, parse_result).start()
    producer = await new_producer(stack.bootstrap)
    pid = worker_pids(stack)[0]
    try:
        before = process_cpu_s(pid)
        run = await fixed_rate(producer, topics.requests, tap, payloads, rate, timeout_s=30)
        spent = process_cpu_s(pid) - before
    finally:
        await producer.stop()
        await tap.stop()
    return PeerFigure("streamgate", rate, run, 1000.0 * spent / max(1, run.answered))


async def _litellm_at(url: str, pid: int, rate: float, seconds: float) -> PeerFigure:
    payloads = misses(run_tag(), "peer", int(rate * seconds))
    before = _tree_cpu_s(pid)
    run = await offer_http(url, payloads, rate, timeout_s=30)
    spent = _tree_cpu_s(pid) - before
    return PeerFigure("litellm", rate, run, 1000.0 * spent / max(1, run.answered))


def _sustained(figures: Sequence[PeerFigure]) -> float:
    passing = [f.rate for f in figures if f.run.sustained(P99_BOUND_MS)]
    return max(passing) if passing else 0.0


def run_peers(settings: Settings, *, rates: Sequence[float], seconds: float, config_file: Path | None = None) -> int:
    """Both gateways at every rate (alternating, streamgate first), then each one's highest sustained rate."""
    print(
        f"peers: streamgate (one worker) and the LiteLLM proxy (one worker), same simulator, cache misses, "
        f"{seconds:.0f} s per rate",
        flush=True,
    )
    ours: list[PeerFigure] = []
    theirs: list[PeerFigure] = []
    with bench_stack(settings, "peers", config_file=config_file) as stack:
        assert stack.simulator_url is not None
        with litellm_proxy(stack.simulator_url, Path(".streamgate/bench/peers/logs")) as (url, proc):
            for rate in rates:
                ours.append(asyncio.run(_streamgate_at(stack, rate, seconds)))
                print(ours[-1].line(), flush=True)
                time.sleep(1.0)
                theirs.append(asyncio.run(_litellm_at(url, proc.pid, rate, seconds)))
                print(theirs[-1].line(), flush=True)
                time.sleep(1.0)
    mine, peer = _sustained(ours), _sustained(theirs)
    ratio = f"x{mine / peer:.2f}" if peer else "n/a"
    print(f"  sustained (all answered, p99 < {P99_BOUND_MS:.0f} ms): streamgate {mine:.0f} req/s, "
          f"litellm {peer:.0f} req/s ({ratio})")  # fmt: skip
    return 0
