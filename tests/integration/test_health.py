"""A running worker's /healthz and /ready, `streamgate dev`'s start-up progress, and `streamgate limits` dates."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from streams.cli.main import main
from streams.devtools.dev import DevStack
from tests.integration.helpers import publish, request, results_for


@pytest.fixture
def reporting_stack(stack: DevStack, stack_progress: list[str]) -> tuple[DevStack, list[str]]:
    """The shared stack, started with a progress printer, and everything it printed."""
    return stack, stack_progress


def get(url: str) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_a_running_worker_is_alive_and_ready(reporting_stack: tuple[DevStack, list[str]]) -> None:
    stack, _ = reporting_stack
    (worker,) = stack.describe()["workers"]  # type: ignore[misc]
    assert get(f"{worker}/healthz") == (200, {"alive": True})
    status, body = get(f"{worker}/ready")  # the stack has answered a probe request end to end
    assert status == 200, body
    assert body["ready"] is True and body["failing"] == [] and all(body["checks"].values())
    assert body["assigned_partitions"] > 0


def test_the_stack_reports_each_start_up_step(reporting_stack: tuple[DevStack, list[str]]) -> None:
    stack, printed = reporting_stack
    stack.wait_workers_ready()
    lines = "".join(printed).splitlines()
    assert [line.split("…")[0] for line in lines] == ["creating topics", "starting worker-0", "simulator", "worker-0"]
    assert all(re.fullmatch(r".+… ok \(\d+\.\d s\)", line) for line in lines), lines


def test_limits_prints_reset_times_as_utc_dates(
    reporting_stack: tuple[DevStack, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, _ = reporting_stack
    doc = request("count me", tenant="dated", user="bob")
    asyncio.run(publish(stack, [doc]))
    assert asyncio.run(results_for(stack, [doc["id"]]))[doc["id"]][0]["status"] == "ok"
    config = tmp_path / "cli.toml"
    config.write_text(f'kafka_bootstrap_servers = "{stack.bootstrap}"\napp_id = "{stack.settings.app_id}"\n')
    capsys.readouterr()
    assert main(["limits", "dated", "bob", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"tenant", "user"}
    for view in report.values():
        assert view["window_start"].endswith("Z")
        for limit in view["limits"].values():
            resets_at = datetime.fromisoformat(limit["resets_at"])
            assert limit["resets_at"].endswith("Z") and resets_at.utcoffset() is not None
            assert resets_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert report["tenant"]["limits"]["requests_per_window"]["used"] >= 1
