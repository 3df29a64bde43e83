"""The settle-topic path (used when a partition moves during a call) serves and accounts exactly like settling in
place: here forced for every request with ``settle_in_place = false``. A streamed answer's chunks are still on the
broker before its result, which the account agent sends after the hop."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from tests.integration.helpers import duplicates, events_for, publish, request, results_for, topic_docs
from tests.support.gateway import gateway_stack


async def test_every_request_is_settled_once_through_the_settle_topic(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "limits.toml"
    config.write_text(
        "[limits.tenants.hop-co.tenant]\nrequests_per_window = 1000\nwindow_s = 86400\n"
        "[limits.tenants.hop-co.users.capped]\nrequests_per_window = 10\nwindow_s = 86400\n"
    )
    env = {"STREAMGATE_SETTLE_IN_PLACE": "false"}
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path, extra_env=env, config_file=config) as stack:
        docs = [request(f"via the settle topic {i}", tenant="hop-co", user="capped") for i in range(15)]
        await publish(stack, docs)
        found = await results_for(stack, [d["id"] for d in docs])
        await asyncio.sleep(1.0)  # a late duplicate would show up in this window
        found = await results_for(stack, [d["id"] for d in docs])
        assert not duplicates(found)
        codes = Counter(r[0]["status"] if r[0]["status"] == "ok" else r[0]["error"]["code"] for r in found.values())
        assert codes == {"ok": 10, "rate_limited": 5}
        ids = {d["id"] for d in docs}
        settled = await topic_docs(
            stack, stack.settings.topics.settle, lambda rs: ids <= {r.json()["request"]["id"] for r in rs}
        )
        assert Counter(s["request"]["id"] for s in settled if s["request"]["id"] in ids) == dict.fromkeys(ids, 1)
        usage = await topic_docs(
            stack, stack.settings.topics.usage, lambda rs: ids <= {r.json()["request_id"] for r in rs}
        )
        assert sorted(u["request_id"] for u in usage if u["request_id"] in ids) == sorted(ids)
        echoed = "Chunks first, then the result, even when the result is sent after the settle hop. " * 4
        streamed = request(f"{echoed}#sim:echo", tenant="hop-co", stream=True)
        await publish(stack, [streamed])
        events = (await events_for(stack, [streamed["id"]]))[streamed["id"]]
        assert [e["type"] for e in events] == ["chunk"] * (len(events) - 1) + ["result"] and len(events) > 2
        assert "".join(e["delta"] for e in events[:-1]) == events[-1]["output"] == echoed.strip()
