"""Hostile events on the request topic while valid traffic flows (a lean hypothesis run; ``make chaos`` runs a
long one): each ends in the dead-letter topic or a result with a stable code, and valid requests are answered."""

from __future__ import annotations

import pytest

from streams.devtools.dev import DevStack
from tests.support.fuzz_run import run_fuzz


@pytest.fixture
def fuzz_stack(stack: DevStack) -> DevStack:
    """The shared stack: every guard on (the defaults), and the fuzzers' tenants with loose limits
    (:func:`tests.support.fuzzing.fuzz_policies`, in tests/integration/shared_config.py)."""
    return stack


def test_hostile_events_end_in_the_dead_letter_topic_or_a_stable_answer(fuzz_stack: DevStack) -> None:
    tally = run_fuzz(fuzz_stack, batches=2, batch_size=15)
    assert tally.events == 30 and tally.valid_answered == 10
    print(f"\nhostile events: {tally.events}, dead-lettered {tally.dead_lettered}, accepted {tally.accepted}, "
          f"worker RSS {[r // 2**20 for r in tally.rss]} MiB")  # fmt: skip
