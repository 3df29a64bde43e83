"""Drive hostile events through a running stack and check where each one ended (the fuzzers' shared loop).

Each event is published with its own record key; intake's verdict is predicted with the same functions the worker
runs (:func:`agents.intake.parse_request`, :func:`agents.intake.check_bounds`), then checked on the broker: a
refused event must be on the dead-letter topic (found by its key) with the predicted reason, and answered
``rejected`` with the predicted code when it named a usable id; an accepted one must be answered, ``ok`` or with a
stable error code. Valid requests published alongside must all be answered ``ok``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from agents.intake import InvalidEvent, check_bounds, parse_request
from gateway.settings import Settings
from schemas.codes import ErrorCode
from streams.devtools.dev import DevStack
from tests.support.hostile import base
from tests.support.kafka import Record, consume_until

VALID_TENANT = "fuzz-valid"
GENEROUS = "requests_per_window = 1000000\ntokens_per_window = 1000000000\nusd_per_day = 1000.0\n"


def fuzz_policies() -> str:
    """TOML for the fuzzers' tenants: limits loose enough that the valid traffic is never refused."""
    return "".join(
        f"[limits.tenants.{t}.tenant]\n{GENEROUS}[limits.tenants.{t}.user_default]\n{GENEROUS}"
        for t in ("fuzz", VALID_TENANT)
    )


def fuzz_config(path: Path) -> Path:
    """Every guard on (the defaults), and :func:`fuzz_policies`, written to ``path``."""
    path.write_text(fuzz_policies())
    return path


@dataclass
class FuzzTally:
    """Outcomes over a fuzzing run, and the worker's resident memory after each batch (bytes)."""

    events: int = 0
    dead_lettered: int = 0
    refused_with_result: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    valid_answered: int = 0
    rss: list[int] = field(default_factory=list)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _expect(raw: bytes, settings: Settings) -> InvalidEvent | str:
    """The intake verdict on ``raw``: the refusal, or the accepted request's id."""
    try:
        request = parse_request(raw, max_depth=settings.guards.max_json_depth)
        check_bounds(request, len(raw), settings.guards)
    except InvalidEvent as bad:
        return bad
    return request.id


async def fuzz_batch(stack: DevStack, hostile: list[bytes], tally: FuzzTally, *, valid: int = 5) -> None:
    """Publish ``hostile`` interleaved with ``valid`` good requests, then check every outcome."""
    keys = [f"fz-key-{uuid.uuid4().hex}".encode() for _ in hostile]
    good = [base(f"valid question {n}", tenant=VALID_TENANT, user="vic") for n in range(valid)]
    valid_ids = {doc["id"] for doc in good}
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, max_request_size=8 * 1024 * 1024, linger_ms=5)
    await producer.start()
    try:
        sends = []
        for n, (key, raw) in enumerate(zip(keys, hostile, strict=True)):
            sends.append(await producer.send(stack.settings.topics.requests, raw, key=key))
            if n % 3 == 0 and good:
                sends.append(await producer.send(stack.settings.topics.requests, orjson.dumps(good.pop())))
        for doc in good:
            sends.append(await producer.send(stack.settings.topics.requests, orjson.dumps(doc)))
        for sent in sends:
            await sent
    finally:
        await producer.stop()
    expected = {key: _expect(raw, stack.settings) for key, raw in zip(keys, hostile, strict=True)}
    refused = {key: bad for key, bad in expected.items() if isinstance(bad, InvalidEvent)}
    answer_ids = set(valid_ids)
    answer_ids |= {v for v in expected.values() if isinstance(v, str)}
    answer_ids |= {bad.request_id for bad in refused.values() if bad.request_id is not None}
    wanted_keys = {base64.b64encode(key).decode() for key in refused}

    def letters_done(records: list[Record]) -> bool:
        return wanted_keys <= {r.json().get("key_b64") for r in records}

    def answers_done(records: list[Record]) -> bool:
        return answer_ids <= {r.json().get("id") for r in records}

    letters = await consume_until(stack.bootstrap, stack.settings.topics.dlq, letters_done, 120)
    answers = await consume_until(stack.bootstrap, stack.settings.topics.results, answers_done, 180)
    by_key = {r.json().get("key_b64"): r.json() for r in letters}
    by_id: dict[str, dict[str, Any]] = {}
    for record in answers:
        by_id.setdefault(record.json()["id"], record.json())
    for key, bad in refused.items():
        letter = by_key[base64.b64encode(key).decode()]
        assert letter["reason"] == bad.reason, (letter["reason"], bad.reason, bad.detail)
        if bad.request_id is not None:
            result = by_id[bad.request_id]
            assert result["status"] == "rejected" and result["error"]["code"] == bad.code.value, result
            tally.refused_with_result += 1
    codes = {code.value for code in ErrorCode}
    for value in expected.values():
        if isinstance(value, str):
            result = by_id[value]
            assert result["status"] == "ok" or result["error"]["code"] in codes, result
            label = result["status"] if result["status"] == "ok" else result["error"]["code"]
            tally.accepted[label] = tally.accepted.get(label, 0) + 1
    for rid in valid_ids:
        assert by_id[rid]["status"] == "ok", by_id[rid]
    tally.events += len(hostile)
    tally.dead_lettered += len(refused)
    tally.valid_answered += len(valid_ids)
    tally.rss.append(rss_bytes(stack.pid("worker-0")))
