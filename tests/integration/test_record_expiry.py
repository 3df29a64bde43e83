"""Finished request records are forgotten after the retention period (a changelog tombstone is written)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.integration.helpers import publish, request, results_for
from tests.support.gateway import gateway_stack
from tests.support.kafka import Record, consume_until


async def test_finished_records_are_deleted_after_retention(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path, extra_env={"STREAMGATE_LEDGER_RETENTION_S": "2"}) as stack:
        first = request("remember me briefly")
        await publish(stack, [first])
        await results_for(stack, [first["id"]])
        await asyncio.sleep(2.5)
        later = request("a later request of the same tenant drives expiry in that partition")
        await publish(stack, [later])
        await results_for(stack, [later["id"]])
        key = f"acme|{first['id']}"

        def tombstoned(records: list[Record]) -> bool:
            return any(r.key is not None and json.loads(r.key) == key and r.value is None for r in records)

        changelog = f"{stack.settings.app_id}-requests-changelog"
        records = await consume_until(stack.bootstrap, changelog, tombstoned, timeout_s=20)
        states = [json.loads(r.value)["s"] for r in records if r.key and json.loads(r.key) == key and r.value]
        assert states[-1] == "done"  # it was finished before it was forgotten
