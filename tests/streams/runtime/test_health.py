"""The readiness decision: which checks fail, and the status a probe sees."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from streams.runtime.health import ReadinessSnapshot, readiness

READY = ReadinessSnapshot(joined=True, assigned_partitions=4, tables_recovered=True, broker=True, redis=True)


def test_a_worker_with_every_check_passing_is_ready() -> None:
    status, body = readiness(READY)
    assert status == 200
    assert body["ready"] is True and body["failing"] == [] and body["assigned_partitions"] == 4
    assert set(body["checks"]) == {"joined", "partitions_assigned", "tables_recovered", "broker", "redis"}
    assert all(body["checks"].values())


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"joined": False}, ["joined"]),
        ({"assigned_partitions": 0}, ["partitions_assigned"]),
        ({"tables_recovered": False}, ["tables_recovered"]),
        ({"broker": False}, ["broker"]),
        ({"redis": False}, ["redis"]),
        ({"redis": False, "joined": False}, ["joined", "redis"]),
    ],
)
def test_any_failing_check_makes_it_unready_and_is_named(change: dict[str, object], failing: list[str]) -> None:
    status, body = readiness(dataclasses.replace(READY, **change))  # type: ignore[arg-type]
    assert status == 503
    assert body["ready"] is False and body["failing"] == failing
    assert [name for name, passed in body["checks"].items() if not passed] == failing


def test_a_starting_worker_fails_every_group_check() -> None:
    snap = ReadinessSnapshot(joined=False, assigned_partitions=0, tables_recovered=False, broker=True, redis=True)
    status, body = readiness(snap)
    assert status == 503 and body["failing"] == ["joined", "partitions_assigned", "tables_recovered"]


def test_the_compose_workers_healthcheck_polls_ready() -> None:
    compose = (Path(__file__).resolve().parents[3] / "docker-compose.yml").read_text()
    worker = compose[compose.index("x-worker:") : compose.index("\nservices:")]
    (check,) = [line for line in worker.splitlines() if line.strip().startswith("test:")]
    assert "http://127.0.0.1:6066/ready" in check
