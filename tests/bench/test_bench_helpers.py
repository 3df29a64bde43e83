"""The benchmark's pure helpers: statistics, ramps, payloads, targets and the report (no timing, no broker)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

import bench.runs
from agents.cache import cache_key
from bench.capacity import RampPlan, ramp_figures, rates_for
from bench.load import Arrival, parse_result
from bench.payloads import TENANTS, misses, payloads, prompts, replays
from bench.report import render, write_json
from bench.runs import RunResult, result_of
from bench.stats import Figure, figures, percentile
from bench.targets import TARGETS
from bench.ttft import parse_chunk
from gateway.settings import Settings
from schemas.request import LLMRequest


def test_percentile_interpolates_and_handles_empty() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) != percentile([], 50)  # nan


def test_figure_is_median_with_range_and_ignores_nan() -> None:
    figure = Figure.of([3.0, float("nan"), 1.0, 2.0])
    assert (figure.median, figure.low, figure.high, figure.runs) == (2.0, 1.0, 3.0, 3)
    assert figure.text() == "2 (1-3)"
    assert figures([{"a": 1.0}, {"a": 3.0, "b": 2.0}])["b"].runs == 1


def test_first_ramp_steps_by_a_fifth_then_by_a_tenth_from_the_last_answer() -> None:
    plan = RampPlan(start=100, steps=4, step_s=1, p99_bound_ms=500)
    assert rates_for(plan, None) == [100, 120, 140, 170]
    assert rates_for(plan, 400)[:3] == [340, 370, 410]


def _run(rate: float, sent: int, latencies: list[float], status: str = "ok") -> RunResult:
    return RunResult(rate, sent, sent / rate, latencies, latencies, Counter({status: len(latencies)}), 0, 0.0, 0.0)


def test_ramp_reports_highest_sustained_step_and_overload_capacity() -> None:
    ok = _run(100, 3, [10.0, 20.0, 30.0])
    slow = _run(200, 3, [900.0, 950.0, 990.0])
    slow.first_received, slow.last_received = 0.0, 0.02  # 3 results in 20 ms: 150/s
    out = ramp_figures([ok, slow], bound_ms=500)
    assert out["sustained_rate"] == 100
    assert out["capacity"] == 150
    refused = _run(100, 3, [10.0, 20.0, 30.0], status="rejected")
    assert ramp_figures([refused], bound_ms=500)["sustained_rate"] == 0


def test_result_of_subtracts_provider_time_from_overhead() -> None:
    arrival = Arrival(received=10.5, record_ts=10.4, data={"status": "ok", "attempt_log": [{"latency_ms": 200}]})
    result = result_of(100, {"a": 10.0}, {"a": arrival}, 0.1)
    assert round(result.e2e_ms[0]) == 500 and round(result.overhead_ms[0]) == 300


def test_payloads_are_valid_one_kilobyte_requests_over_many_tenants() -> None:
    batch = misses("t1", "x", 200)
    sizes = {len(p.value) for p in batch}
    assert min(sizes) >= 1000 and max(sizes) <= 1200
    requests = [LLMRequest.model_validate_json(p.value) for p in batch]
    assert len({r.tenant for r in requests}) == TENANTS
    assert len({r.id for r in requests}) == 200


def test_replays_hit_the_cache_key_of_the_warmed_prompt() -> None:
    settings = Settings()
    items = prompts("t2", 5)
    warm = [LLMRequest.model_validate_json(p.value) for p in payloads("t2", "warm", items)]
    again = [LLMRequest.model_validate_json(p.value) for p in replays("t2", "hit-longer-batch-name", items, 10)]
    warm_keys = {cache_key(r, settings) for r in warm}
    assert {cache_key(r, settings) for r in again} == warm_keys
    assert {r.id for r in again}.isdisjoint({r.id for r in warm})


def _report() -> dict[str, Any]:
    fig = Figure.of
    ramp = {"sustained_rate": 1200.0, "at_sustained_peak_in_flight": 2100.0, "at_overload_peak_rss_mb_w0": 350.0}
    capacity = {"figures": {"sustained_rate": fig([1200.0]), "capacity": fig([1300.0])}, "ramps": [ramp]}
    return {
        "meta": {"quick": True, "cores": 2, "broker": "embedded broker", "seconds": 1.0},
        "overhead": {"by_rate": {"250": {"overhead_p50": fig([30.0]), "overhead_p99": fig([130.0])}}},
        "cache_miss": capacity,
        "cache_hit": capacity,
        "in_flight": capacity,
        "held": {
            "latency_ms": 20_000.0,
            "rate": 150.0,
            "figures": {
                "peak_in_flight": fig([2400.0]),
                "peak_rss_mb": fig([360.0]),
                "overhead_p50": fig([40.0]),
                "overhead_p99": fig([90.0]),
            },
        },
        "cpu": {"overhead": {"bench": 1.2, "foreign": 0.5, "machine": 1.7, "seconds": 1.0}},
    }


def test_targets_pass_miss_and_untested() -> None:
    report = _report()
    verdicts = {t.name: t.verdict(report)[1] for t in TARGETS}
    assert verdicts["overhead p50 at 250 req/s"] == "PASS"
    assert verdicts["overhead p99 at 250 req/s"] == "MISS"
    assert verdicts["cache-hit throughput"] == "MISS"
    assert verdicts["worker RSS at 2,000+ in flight (slow provider)"] == "PASS"
    report["held"]["figures"]["peak_in_flight"] = Figure.of([1500.0])
    assert TARGETS[-1].verdict(report)[1].startswith("UNTESTED")
    del report["cache_hit"]
    assert {t.name: t.verdict(report)[1] for t in TARGETS}["cache-hit throughput"] == "n/a"


def test_report_renders_and_writes_json(tmp_path: Path) -> None:
    report = _report()
    text = render(report)
    assert "TARGETS" in text and "WARNING: other processes" in text
    assert "2,400 in flight, worker RSS 360 MB" in text
    write_json(report, tmp_path / "r.json")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["cache_miss"]["figures"]["sustained_rate"]["median"] == 1200.0
    assert {t["verdict"] for t in doc["targets"]} >= {"PASS", "MISS"}
    assert orjson.loads(orjson.dumps(doc)) == doc


async def test_ramp_stops_at_first_failure_and_steps_down_when_the_first_step_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fake_fixed_rate(producer: Any, topic: str, tap: Any, payloads: Any, rate: float, **_: Any) -> RunResult:
        return _run(rate, 3, [10.0, 20.0, 30.0] if rate <= 100 else [900.0, 950.0, 990.0])

    monkeypatch.setattr(bench.runs, "fixed_rate", fake_fixed_rate)
    lines: list[str] = []

    async def run(rates: list[float]) -> list[float]:
        steps = await bench.runs.ramp(
            None,  # aiokafka is untyped here: any producer is accepted
            "t",
            None,  # type: ignore[arg-type]
            lambda batch, n: [],
            rates,
            step_s=1,
            p99_bound_ms=500,
            timeout_s=1,
            log=lines.append,
        )
        return [s.rate for s in steps]

    assert await run([60, 80, 100, 120, 140]) == [60, 80, 100, 120]
    # a failed first step: down to 60 %, then back up by x1.2 while below the failed rate, at most twice
    assert await run([130, 160]) == [130, 80, 100, 120]
    assert await run([1000]) == [1000, 600, 360]


def test_result_taps_skip_chunks_and_the_ttft_tap_keeps_only_them() -> None:
    chunk = b'{"v": 1, "id": "r-1", "type": "chunk", "seq": 0, "delta": "Hi", "reset": false}'
    result = b'{"v": 1, "id": "r-1", "type": "result", "status": "ok"}'
    assert parse_result(chunk) is None and parse_result(result) == (
        "r-1",
        {"v": 1, "id": "r-1", "type": "result", "status": "ok"},
    )
    assert parse_chunk(chunk) == ("r-1", None) and parse_chunk(result) is None
