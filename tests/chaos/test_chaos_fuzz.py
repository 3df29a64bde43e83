"""The long hostile-input run (the default suite runs two small batches): many hypothesis batches against one
worker while valid requests flow, and the worker's resident memory must not keep growing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.chaos.audit import Figures
from tests.support.fuzz_run import run_fuzz
from tests.support.fuzzing import fuzz_config
from tests.support.gateway import gateway_stack

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(1200)]

BATCHES = 25
BATCH_SIZE = 20
RSS_GROWTH_LIMIT = 256 * 2**20
"""Allowed growth of the worker's RSS from the first batch to the last (3 MB events pass through it)."""


def test_hostile_input_long(kafka_bootstrap: str, redis_url: str, tmp_path: Path, figures: Figures) -> None:
    started = time.monotonic()
    with gateway_stack(kafka_bootstrap, redis_url, tmp_path, config_file=fuzz_config(tmp_path / "fuzz.toml")) as stack:
        tally = run_fuzz(stack, batches=BATCHES, batch_size=BATCH_SIZE)
    rss_mib = [r // 2**20 for r in tally.rss]
    figures.requests = tally.events + tally.valid_answered
    figures.answered = figures.requests
    figures.statuses = {"dead_lettered": tally.dead_lettered, "valid_ok": tally.valid_answered, **tally.accepted}
    figures.notes.update(rss_first_mib=rss_mib[0], rss_max_mib=max(rss_mib), rss_last_mib=rss_mib[-1])
    figures.seconds = time.monotonic() - started
    assert tally.events == BATCHES * BATCH_SIZE
    assert tally.rss[-1] - tally.rss[0] < RSS_GROWTH_LIMIT, rss_mib
