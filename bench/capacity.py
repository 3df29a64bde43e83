"""Capacity: the highest offered rate a stack sustains, found by stepping the rate up until it is not.

A step is *sustained* when every request is answered, none is refused and p99 stays under the scenario's bound.
Each repetition is one ramp; the first ramp steps by x1.2 from ``start`` (an estimate from an earlier scenario),
later ones step by x1.1 from 85 % of the previous ramp's answer, so the figure is resolved to ~10 %. A ramp whose
first step already fails steps down instead (see :func:`bench.runs.ramp`). Besides the highest sustained rate, a
ramp reports the *capacity*: the rate results came out at during the first step that was not sustained (an
overloaded stack drains its backlog at the rate it can serve).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.load import Tap, new_producer, parse_result
from bench.runs import MakePayloads, RunResult, Sampler, highest_sustained, ramp
from bench.stats import figures
from streams.devtools.dev import DevStack


@dataclass(frozen=True, slots=True)
class RampPlan:
    """How to step: first rate, how many steps at most, seconds per step and the p99 bound of a sustained step."""

    start: float
    steps: int
    step_s: float
    p99_bound_ms: float
    timeout_s: float = 30.0


def rates_for(plan: RampPlan, previous: float | None) -> list[float]:
    """The rates of one ramp (see the module docstring)."""
    if previous is None:
        return [round(plan.start * 1.2**k, -1) for k in range(plan.steps)]
    first = max(10.0, 0.85 * previous)
    return [round(first * 1.1**k, -1) for k in range(plan.steps)]


def ramp_figures(results: Sequence[RunResult], bound_ms: float) -> dict[str, float]:
    """The figures of one ramp: highest sustained rate (and its run's figures) and the capacity."""
    best = highest_sustained(results, bound_ms)
    failed = [r for r in results if not r.sustained(bound_ms)]
    out: dict[str, float] = {"sustained_rate": best.rate if best else 0.0}
    out["capacity"] = failed[0].completion_rate if failed else float("nan")
    if best is not None:
        out.update({f"at_sustained_{key}": value for key, value in best.summary().items()})
    if failed:
        out.update(
            {
                f"at_overload_{key}": value
                for key, value in failed[0].summary().items()
                if key.startswith(("peak_", "e2e_p99", "rate"))
            }
        )
    out["rejected"] = float(sum(r.statuses.get("rejected", 0) for r in results))
    out["errors"] = float(sum(r.statuses.get("error", 0) for r in results))
    return out


async def capacity(
    stack: DevStack,
    make: Callable[[int], MakePayloads],
    plan: RampPlan,
    *,
    runs: int,
    sampler: Sampler | None = None,
    earlier: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``runs`` more ramps, continuing ``earlier`` (this scenario's result from a previous stack, if any).

    ``make(n)`` gives the payload factory of ramp ``n``. Figures are medians over all ramps so far.
    """
    topics = stack.settings.topics
    tap = await Tap(stack.kafka, topics.results, parse_result).start()
    producer = await new_producer(stack.kafka)
    per_ramp: list[dict[str, float]] = list(earlier["ramps"]) if earlier else []
    found = [r["sustained_rate"] for r in per_ramp if r["sustained_rate"] > 0]
    previous: float | None = found[-1] if found else None
    try:
        for _ in range(runs):
            print(f"   ramp {len(per_ramp) + 1}:", flush=True)
            results = await ramp(
                producer,
                topics.requests,
                tap,
                make(len(per_ramp)),
                rates_for(plan, previous),
                step_s=plan.step_s,
                p99_bound_ms=plan.p99_bound_ms,
                timeout_s=plan.timeout_s,
                sampler=sampler,
                log=lambda line: print(line, flush=True),
            )
            per_ramp.append(ramp_figures(results, plan.p99_bound_ms))
            previous = per_ramp[-1]["sustained_rate"] or previous
            tap.forget()
    finally:
        await producer.stop()
        await tap.stop()
    return {"figures": figures(per_ramp), "ramps": per_ramp, "bound_ms": plan.p99_bound_ms}
