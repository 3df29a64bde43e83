"""What to do with an event given the ledger's record of its request: plain functions, tested without Kafka.

These decisions are what make redelivery safe: a replayed admit event never reserves twice, a duplicate publish
of a finished request is answered again without a second provider call, and a replayed settlement never applies
its usage twice or emits a second usage event.
"""

from __future__ import annotations

from enum import Enum

from streams.state.records import FINISHED_STATES, REJECTED_STATES, RequestRecord


class ScreenPlan(Enum):
    """The screen stage's options for one admit event."""

    DECIDE = "decide"  # first sight of this id: run guards and limits
    RESUME = "resume"  # admitted before (replay or rebalance) but not finished: run it without reserving again
    DROP = "drop"  # the same request is in flight in this worker right now: its answer is coming
    REPLAY_REJECTION = "replay_rejection"  # refused before: send the same refusal
    REANSWER = "reanswer"  # finished before and published again: answer from the stored completion
    SKIP = "skip"  # a replay of an event whose request already finished: nothing to do


def plan_screen(record: RequestRecord | None, offset: int, in_flight_here: bool) -> ScreenPlan:
    """Decide how the screen stage treats an admit event at ``offset``."""
    if record is None:
        return ScreenPlan.DECIDE
    if record.state == "reserved":
        return ScreenPlan.DROP if in_flight_here else ScreenPlan.RESUME
    if record.state in REJECTED_STATES:
        return ScreenPlan.REPLAY_REJECTION
    if record.state in FINISHED_STATES:
        return ScreenPlan.SKIP if offset == record.offset else ScreenPlan.REANSWER
    raise ValueError(f"unknown record state {record.state!r}")


class SettlePlan(Enum):
    """The account stage's options for one settlement."""

    APPLY_AND_EMIT = "apply_and_emit"  # release the reservation, charge usage, emit result and usage event
    EMIT = "emit"  # usage already applied (replay after a crash): emit result and usage event
    EMIT_RESULT_ONLY = "emit_result_only"  # a re-answer of a duplicate publish: result only, no second usage
    APPLY_ONLY = "apply_only"  # result and usage event already delivered elsewhere: release, charge, mark done
    SKIP = "skip"  # a replayed settlement whose result was already delivered


def plan_settle(
    record: RequestRecord | None, reemit: bool, emitting_here: bool, *, delivered: bool = False
) -> SettlePlan:
    """Decide how the account stage treats a settlement (``delivered``: its outputs went out already)."""
    if delivered:
        return SettlePlan.APPLY_ONLY if record is not None and record.state == "reserved" else SettlePlan.SKIP
    if reemit:
        return SettlePlan.EMIT_RESULT_ONLY
    if record is None:
        # No ledger record (e.g. its retention expired): account for it as new, never silently drop an answer.
        return SettlePlan.EMIT
    if record.state == "reserved":
        # Emitting here with the record still reserved: this worker is settling the same request in place (it
        # applies the usage once delivered). Applying this copy too would charge the request twice.
        return SettlePlan.SKIP if emitting_here else SettlePlan.APPLY_AND_EMIT
    if record.state in ("settled", "rejected"):
        return SettlePlan.SKIP if emitting_here else SettlePlan.EMIT
    return SettlePlan.SKIP
