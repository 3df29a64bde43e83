"""Run hypothesis-generated batches of hostile events against a stack (see :mod:`tests.support.fuzzing`)."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from streams.devtools.dev import DevStack, run_blocking
from tests.support.fuzzing import FuzzTally, fuzz_batch
from tests.support.hostile import HOSTILE


def run_fuzz(stack: DevStack, *, batches: int, batch_size: int) -> FuzzTally:
    """``batches`` hypothesis examples of ``batch_size`` hostile events each; raises on the first bad outcome.

    Generation only (no shrinking: each example is a round trip through the broker); a failure still reports the
    batch that broke it.
    """
    tally = FuzzTally()

    @settings(max_examples=batches, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.lists(HOSTILE, min_size=batch_size, max_size=batch_size))
    def one_batch(events: list[bytes]) -> None:
        run_blocking(fuzz_batch(stack, events, tally))

    one_batch()
    return tally
