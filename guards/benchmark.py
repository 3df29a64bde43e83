"""``streamgate guards bench``: what content screening (injection + PII, through guardrails) costs per 1 KB prompt.

Prompts are ~1 KB of customer-support text, a third of them carrying an email, a phone number and a card number,
varied so nothing is served from a cache. Reports p50/p99/mean per guard and for the whole content stage.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from typing import Any

from gateway.settings import Settings
from guards.base import GuardInput
from guards.registry import build_guards, of_stage
from schemas.request import ChatMessage, LLMRequest

_SENTENCES = (
    "My order {n} was supposed to arrive on Friday but the tracking page has not changed since Monday.",
    "I was charged twice for the annual plan, the second charge of ${price} appeared on {day}.",
    "Could you tell me how to change the delivery address for order {n} before it ships?",
    "The app crashes when I open the settings page on version {major}.{minor}.{patch}.",
    "I would like to return the blue jacket, size M, that I bought last month.",
    "Is there a way to export all my invoices for {year} as a single PDF?",
    "The discount code SPRING{n2} did not apply at checkout even though it is still valid.",
    "Please cancel my subscription at the end of the current billing period.",
)
_PII = "You can reach me at jane.doe{n2}@example.com or +1 415-555-{n4}; the card ending was 4111 1111 1111 1111."


def prompt(rng: random.Random, size: int = 1024) -> str:
    """About ``size`` bytes of support text, with PII one time in three."""
    parts: list[str] = []
    fill = {"year": 2024, "day": "Tuesday"}
    while sum(len(p) + 1 for p in parts) < size:
        values = {
            "n": rng.randint(10_000, 99_999),
            "n2": rng.randint(10, 99),
            "n4": rng.randint(1000, 9999),
            "price": f"{rng.randint(5, 300)}.{rng.randint(0, 99):02d}",
            "major": rng.randint(1, 9),
            "minor": rng.randint(0, 20),
            "patch": rng.randint(0, 9),
            **fill,
        }
        template = _PII if not parts and rng.random() < 1 / 3 else rng.choice(_SENTENCES)
        parts.append(template.format(**values))
    return " ".join(parts)[:size]


def _stats(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def run_guard_bench(settings: Settings, *, requests: int = 2000, seed: int = 7) -> dict[str, Any]:
    """Time each content guard and the whole content stage on ``requests`` 1 KB prompts."""
    guards = of_stage(build_guards(settings), "content")
    rng = random.Random(seed)
    policy = settings.guards.policy_for("bench")
    subjects = [
        GuardInput(
            request=LLMRequest(
                id=f"b{i}", tenant="bench", user="u", messages=[ChatMessage(role="user", content=prompt(rng))]
            ),
            raw_size=1200,
            policy=policy,
        )
        for i in range(requests)
    ]
    for subject in subjects[:50]:  # warm-up
        for guard in guards:
            guard.check(subject)
    per_guard: dict[str, list[float]] = {g.name: [] for g in guards}
    total: list[float] = []
    total_cpu: list[float] = []
    cpu_started = time.process_time()
    for subject in subjects:
        started, started_cpu = time.perf_counter(), time.thread_time()
        for guard in guards:
            before = time.perf_counter()
            guard.check(subject)
            per_guard[guard.name].append((time.perf_counter() - before) * 1000)
        total_cpu.append((time.thread_time() - started_cpu) * 1000)
        total.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(subjects)
    return {
        "requests": requests,
        "prompt_bytes": 1024,
        "guards": {name: _stats(samples) for name, samples in per_guard.items()},
        "content_stage": _stats(total),
        # Wall-clock figures include waiting for a core on a shared machine; this thread's CPU time does not.
        "content_stage_cpu": _stats(total_cpu),
        "content_stage_cpu_mean_ms": round(cpu_ms, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
