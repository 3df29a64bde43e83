"""Client-side helpers written only from the README's contract: JSON in, JSON out, plain aiokafka."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from streams.devtools.dev import DevStack
from tests.support.kafka import Record, consume_until, produce


def request(text: str, **fields: Any) -> dict[str, Any]:
    """A request document as a client would write it."""
    doc: dict[str, Any] = {
        "v": 1,
        "id": f"t-{uuid.uuid4().hex[:12]}",
        "tenant": "acme",
        "user": "alice",
        "messages": [{"role": "user", "content": text}],
        "cache": {"mode": "bypass"},
    }
    doc.update(fields)
    return doc


async def publish(stack: DevStack, docs: list[dict[str, Any]], keys: list[bytes | None] | None = None) -> None:
    """Publish request documents to the requests topic."""
    await produce(stack.bootstrap, stack.settings.topics.requests, [json.dumps(d).encode() for d in docs], keys)


async def results_for(
    stack: DevStack, ids: list[str], timeout_s: float = 60.0, *, topic: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every result on the results topic (or ``topic``) for ``ids`` (a list per id, to catch duplicates), once all
    arrived; streamed answers' chunk events are left out (:func:`events_for` has them)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for rid, docs in (await events_for(stack, ids, timeout_s, topic=topic)).items():
        found[rid] = [doc for doc in docs if doc.get("type") != "chunk"]
    return found


async def events_for(
    stack: DevStack, ids: list[str], timeout_s: float = 60.0, *, topic: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every event (chunks and results, in topic order) for ``ids`` on the results topic (or ``topic``), once each
    id's result arrived."""
    wanted = set(ids)

    def done(records: list[Record]) -> bool:
        return wanted <= {doc["id"] for doc in (r.json() for r in records) if doc.get("type") != "chunk"}

    records = await consume_until(stack.bootstrap, topic or stack.settings.topics.results, done, timeout_s)
    found: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        doc = record.json()
        if doc["id"] in wanted:
            found.setdefault(doc["id"], []).append(doc)
    return found


async def topic_docs(stack: DevStack, topic: str, until: Any, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """JSON documents on ``topic`` once ``until`` (a count or a predicate over records) holds."""
    return [r.json() for r in await consume_until(stack.bootstrap, topic, until, timeout_s)]


def duplicates(found: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    """Ids that came back more than once."""
    return Counter({rid: len(docs) for rid, docs in found.items() if len(docs) > 1})


def limits_cli(stack: DevStack, tenant: str, user: str, *, config: Path | None = None) -> dict[str, Any]:
    """Run ``streamgate limits`` as an operator would (with ``config`` when given) and parse its JSON."""
    options = ["--config", str(config)] if config is not None else []
    out = subprocess.run(
        [sys.executable, "-m", "streams.cli", *options, "limits", tenant, user],
        env={**os.environ, **stack.extra_env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report: dict[str, Any] = json.loads(out.stdout)
    return report
