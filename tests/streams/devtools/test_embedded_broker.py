"""The embedded broker's life cycle; a produce/consume round trip and topic set-up on the session's broker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.errors import BrokerError
from streams.devtools.embedded_broker import EmbeddedBroker, resolve_bootstrap
from streams.runtime.admin import ensure_topics
from tests.support.kafka import consume_until, produce, unique_name


def _port_open(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
        return True
    except OSError:
        return False


def _wait_port_closed(bootstrap: str, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _port_open(bootstrap):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_start_answers_metadata_and_stop_frees_the_port(tmp_path: Path) -> None:
    with EmbeddedBroker(tmp_path) as broker:
        bootstrap = broker.bootstrap_servers
        assert broker.running and bootstrap.startswith("127.0.0.1:")
        assert broker.startup_seconds is not None and broker.startup_seconds < 10
        assert asyncio.run(ensure_topics(bootstrap, [])) == {}  # a metadata round trip
        assert broker.log_path is not None and broker.log_path.parent == tmp_path
    assert not broker.running
    assert _wait_port_closed(bootstrap)
    assert "listening on" in broker.log_path.read_text()
    broker.stop()  # idempotent
    with pytest.raises(BrokerError):
        _ = broker.bootstrap_servers


def test_explicit_start_stop_and_double_start(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path).start()
    try:
        with pytest.raises(BrokerError, match="already started"):
            broker.start()
    finally:
        broker.stop()
    assert not broker.running


async def test_start_from_inside_a_running_event_loop(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path).start()  # probes from a helper thread: no nested event loop
    try:
        assert await ensure_topics(broker.bootstrap_servers, [(unique_name("loop"), 1)])
    finally:
        broker.stop()


def test_a_taken_port_fails_fast_with_the_log(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(BrokerError, match="exited"):
            EmbeddedBroker(tmp_path, port=port, startup_timeout_s=10).start()
        assert time.monotonic() - began < 5


def test_resolve_bootstrap(tmp_path: Path) -> None:
    assert resolve_bootstrap("kafka:9092") == ("kafka:9092", None)
    bootstrap, broker = resolve_bootstrap(None, log_dir=tmp_path)
    assert broker is not None
    try:
        assert bootstrap == broker.bootstrap_servers and _port_open(bootstrap)
    finally:
        broker.stop()


def test_broker_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from streams.devtools.embedded_broker import EmbeddedBroker\n"
        f"b = EmbeddedBroker({str(tmp_path)!r}).start()\n"
        "print(b.bootstrap_servers, flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[1]
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        assert parent.stdout is not None
        bootstrap = parent.stdout.readline().strip()
        assert _port_open(bootstrap)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    assert _wait_port_closed(bootstrap), "the broker outlived its SIGKILLed parent"


@pytest.mark.integration
async def test_produce_consume_round_trip(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    topic = unique_topic_prefix + "round-trip"
    await ensure_topics(kafka_bootstrap, [(topic, 4)])
    keys = [f"k{i % 5}".encode() for i in range(50)]
    values = [f"v{i}".encode() for i in range(50)]
    placed = await produce(kafka_bootstrap, topic, values, keys, headers=[("h", b"1")])
    records = await consume_until(kafka_bootstrap, topic, 50, timeout_s=20)
    assert sorted(r.value for r in records if r.value) == sorted(values)
    assert {(r.partition, r.offset) for r in records} == set(placed)
    partition_of = {r.key: r.partition for r in records}
    assert all(partition_of[r.key] == r.partition for r in records)  # one key, one partition
    assert len(set(partition_of.values())) > 1 and records[0].headers == (("h", b"1"),)
    in_partition = [int(r.text[1:]) for r in records if r.key == b"k3"]
    assert in_partition == sorted(in_partition)  # per-key order kept


@pytest.mark.integration
async def test_consume_until_predicate_and_timeout(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    topic = unique_topic_prefix + "json"
    await ensure_topics(kafka_bootstrap, [(topic, 1)])
    await produce(kafka_bootstrap, topic, [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}'])
    records = await consume_until(kafka_bootstrap, topic, lambda rs: any(r.json()["n"] == 3 for r in rs), 20)
    assert [r.json()["n"] for r in records] == [1, 2, 3]
    with pytest.raises(TimeoutError, match="3 records"):
        await consume_until(kafka_bootstrap, topic, 4, timeout_s=0.5)
    assert len(await consume_until(kafka_bootstrap, topic, 4, timeout_s=3.0, raise_on_timeout=False)) == 3
    with pytest.raises(TimeoutError, match="does not exist"):
        await consume_until(kafka_bootstrap, unique_topic_prefix + "never", 1, timeout_s=0.3)


@pytest.mark.integration
async def test_ensure_topics_is_idempotent(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    specs = [(unique_topic_prefix + "a", 3), (unique_topic_prefix + "b", 1)]
    assert await ensure_topics(kafka_bootstrap, specs) == dict(specs)
    assert await ensure_topics(kafka_bootstrap, specs) == dict(specs)
    # an existing topic keeps its partition count; the actual count is reported
    assert await ensure_topics(kafka_bootstrap, [(specs[0][0], 6)]) == {specs[0][0]: 3}
    results = await asyncio.gather(*(ensure_topics(kafka_bootstrap, specs) for _ in range(5)))
    assert all(r == dict(specs) for r in results)
    with pytest.raises(BrokerError, match="partitions must be >= 1"):
        await ensure_topics(kafka_bootstrap, [(unique_topic_prefix + "c", 0)])
