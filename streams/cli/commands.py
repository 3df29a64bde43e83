"""Implementations of the smaller CLI commands (dev, send, schema, limits, status)."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from gateway.limits.policy import effective_limits
from gateway.limits.snapshot import snapshot
from gateway.limits.state import decode
from gateway.settings import Settings
from schemas.export import CONTRACT, render
from schemas.request import ChatMessage, LLMRequest
from streams.devtools.client import GatewayClient, new_request_id, read_topic
from streams.devtools.dev import DevStack, write_state
from streams.state.limits_ledger import user_key


def dev(settings: Settings, config: Path | None, *, workers: int, state_file: Path) -> int:
    """Run broker + simulator + workers until Ctrl-C."""
    with DevStack(settings, workers=workers, config_file=config) as stack:
        seconds = asyncio.run(stack.wait_ready())
        write_state(stack, state_file)
        print(json.dumps(stack.describe(), indent=2))
        print(f"ready in {seconds:.1f} s; try: streamgate send 'hello'   (Ctrl-C stops everything)", flush=True)
        try:
            while True:
                time.sleep(3600)
        finally:
            state_file.unlink(missing_ok=True)


async def send(settings: Settings, bootstrap: str, args: argparse.Namespace) -> int:
    """Publish one request and print its result as JSON."""
    schema = json.loads(args.schema.read_text()) if args.schema else None
    request = LLMRequest(
        id=new_request_id("cli"),
        tenant=args.tenant,
        user=args.user,
        model=args.model,
        response_format=schema,
        messages=[ChatMessage(role="user", content=args.text)],
    )
    async with GatewayClient(
        bootstrap, requests_topic=settings.topics.requests, results_topic=settings.topics.results
    ) as client:
        await client.publish([request])
        found = await client.collect([request.id], timeout_s=args.timeout)
    if request.id not in found:
        print(f"no result for {request.id} within {args.timeout} s")
        return 1
    print(found[request.id].model_dump_json(indent=2))
    return 0


def schema(name: str | None) -> int:
    """Print one schema, or all of them."""
    for each in [name] if name else list(CONTRACT):
        if each not in CONTRACT:
            print(f"unknown schema {each!r}; choose from {', '.join(CONTRACT)}")
            return 2
        print(render(each))
    return 0


async def limits(settings: Settings, bootstrap: str, tenant: str, user: str | None) -> int:
    """Fold the usage table's changelog and print usage against each limit."""
    keys = {tenant: "tenant"} if user is None else {tenant: "tenant", user_key(tenant, user): "user"}
    latest = await _read_changelog(bootstrap, f"{settings.app_id}-usage-changelog", set(keys))
    tenant_limits, user_limits = effective_limits(settings.limits, tenant, user or "")
    now = time.time()
    report: dict[str, Any] = {}
    for key, scope in keys.items():
        state = decode(latest.get(key))
        report[scope] = snapshot(state, tenant_limits if scope == "tenant" else user_limits, now)
    print(json.dumps(report, indent=2, default=str))
    return 0


async def _read_changelog(bootstrap: str, topic: str, keys: set[str]) -> dict[str, bytes | None]:
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
            print("no worker URL given and no dev stack here (start `streamgate dev` or pass --url)")
            return 1
        urls = list(json.loads(state_file.read_text())["workers"])
    for url in urls:
        with urllib.request.urlopen(f"{url}/status", timeout=5) as response:
            print(url, json.dumps(json.load(response), indent=2))
    return 0
