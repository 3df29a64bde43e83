"""Implementations of the smaller CLI commands (dev, send, schema, limits, status)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.errors import StreamgateError
from gateway.kafka_security import KafkaTarget
from gateway.limits.policy import effective_limits
from gateway.limits.snapshot import Snapshot, snapshot
from gateway.limits.state import decode
from gateway.settings import Settings
from gateway.tenant_binding import key_config, new_key
from schemas.codes import ErrorCode
from schemas.export import CONTRACT, render
from schemas.request import ChatMessage, LLMRequest
from streams.devtools.client import GatewayClient, new_request_id, read_topic
from streams.state.limits_ledger import user_key


def dev(settings: Settings, config: Path | None, *, workers: int, state_file: Path) -> int:
    """Run broker + simulator + workers until Ctrl-C."""
    from streams.devtools.dev import DevStack, write_state  # the whole runtime: only `dev` needs it

    with DevStack(settings, workers=workers, config_file=config, progress=_print_progress) as stack:
        stack.wait_workers_ready()
        _print_progress("pipeline answers a probe… ")
        seconds = asyncio.run(stack.wait_ready())
        _print_progress("ok\n")
        write_state(stack, state_file)
        print(json.dumps(stack.describe(), indent=2))
        print(f"ready in {seconds:.1f} s; try: streamgate send 'hello'   (Ctrl-C stops everything)", flush=True)
        try:
            while True:
                time.sleep(3600)
        finally:
            state_file.unlink(missing_ok=True)


def _print_progress(text: str) -> None:
    print(text, end="", file=sys.stderr, flush=True)


def cli_request(args: argparse.Namespace) -> LLMRequest:
    """The request ``streamgate send`` publishes (validated before any broker is contacted)."""
    try:
        schema = json.loads(args.schema.read_text()) if args.schema else None
    except (OSError, ValueError) as exc:
        raise StreamgateError(f"cannot read --schema {args.schema}: {exc}", code=ErrorCode.INVALID_REQUEST) from exc
    return LLMRequest(
        id=new_request_id("cli"),
        tenant=args.tenant,
        user=args.user,
        model=args.model,
        response_format=schema,
        messages=[ChatMessage(role="user", content=args.text)],
    )


async def send(settings: Settings, bootstrap: KafkaTarget, request: LLMRequest, *, timeout_s: float) -> int:
    """Publish one request and print its result as JSON; exits 1 when it is ``rejected``/``error`` or never came."""
    _quiet_kafka_client()
    async with GatewayClient(
        bootstrap,
        requests_topic=settings.topics.requests,
        results_topic=settings.topics.results,
        tenant_keys=settings.tenant_binding.signing_keys(),
    ) as client:
        await client.publish([request])
        found = await client.collect([request.id], timeout_s=timeout_s)
    if request.id not in found:
        print(f"streamgate: no result for {request.id} within {timeout_s} s", file=sys.stderr)
        return 1
    result = found[request.id]
    print(result.model_dump_json(indent=2))
    return 0 if result.status == "ok" else 1


def tenant_key(tenant: str) -> int:
    """Print a new random key for ``tenant`` and the ``[tenant_binding]`` config that accepts it."""
    try:
        LLMRequest(id="key", tenant=tenant, user="u", messages=[ChatMessage(role="user", content=".")])
    except ValidationError:
        raise StreamgateError(f"invalid tenant name {tenant!r}") from None
    print(key_config(tenant, new_key()), end="")
    return 0


def schema(name: str | None) -> int:
    """Print one schema, or all of them."""
    for each in [name] if name else list(CONTRACT):
        if each not in CONTRACT:
            print(f"streamgate: unknown schema {each!r}; choose from {', '.join(CONTRACT)}", file=sys.stderr)
            return 2
        print(render(each))
    return 0


async def limits(settings: Settings, bootstrap: KafkaTarget, tenant: str, user: str | None) -> int:
    """Fold the usage table's changelog and print usage against each limit."""
    _quiet_kafka_client()
    keys = {tenant: "tenant"} if user is None else {tenant: "tenant", user_key(tenant, user): "user"}
    latest = await _read_changelog(bootstrap, f"{settings.app_id}-usage-changelog", set(keys))
    tenant_limits, user_limits = effective_limits(settings.limits, tenant, user or "")
    now = time.time()
    report: dict[str, Any] = {}
    for key, scope in keys.items():
        state = decode(latest.get(key))
        report[scope] = with_dates(snapshot(state, tenant_limits if scope == "tenant" else user_limits, now))
    print(json.dumps(report, indent=2, default=str))
    return 0


def with_dates(view: Snapshot) -> dict[str, Any]:
    """``view`` as ``streamgate limits`` prints it: ``window_start`` and each ``resets_at`` as ISO-8601 UTC dates."""
    return {
        **view,
        "window_start": iso_utc(view["window_start"]),
        "limits": {name: {**limit, "resets_at": iso_utc(limit["resets_at"])} for name, limit in view["limits"].items()},
    }


def iso_utc(epoch_s: float) -> str:
    """An epoch time as an ISO-8601 UTC date to the second, e.g. ``2025-06-16T00:00:00Z``."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _read_changelog(bootstrap: KafkaTarget, topic: str, keys: set[str]) -> dict[str, bytes | None]:
    latest: dict[str, bytes | None] = {}
    for record in await read_topic(bootstrap, topic):
        key = json.loads(record.key) if record.key else None
        if key in keys:
            latest[key] = record.value
    return latest


def status(state_file: Path, urls: list[str] | None = None) -> int:
    """Print each worker's /status page (the given URLs, else the dev stack's workers)."""
    if not urls:
        if not state_file.is_file():
            print(
                "streamgate: no worker URL given and no dev stack here (start `streamgate dev` or pass --url)",
                file=sys.stderr,
            )
            return 1
        urls = list(json.loads(state_file.read_text())["workers"])
    for url in urls:
        try:
            with urllib.request.urlopen(f"{url}/status", timeout=5) as response:
                page = json.load(response)
        except (OSError, ValueError) as exc:  # unreachable, HTTP error, not JSON
            print(f"streamgate: no worker status at {url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
            return 1
        print(url, json.dumps(page, indent=2))
    return 0


def _quiet_kafka_client() -> None:
    """A client command reports an unreachable broker in one line of its own; aiokafka's log lines would repeat it."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
