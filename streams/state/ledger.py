"""The ledger: the Faust tables behind screening and accounting, and the synchronous steps that change them.

Every method here is synchronous on purpose: the screen and account agents call them between awaits, so a
read-modify-write of a tenant's state can never interleave with another one (Faust's rule that only a
single-actor agent may write a table, kept across the two agents that share these tables).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agents.job import RoutePlan
from schemas.alert import BudgetAlert
from schemas.codes import ErrorCode
from schemas.internal import Reservation, Settlement
from schemas.request import LLMRequest
from schemas.result import ErrorInfo, ResultStatus
from streams.state.record_expiry import RecordExpiry
from streams.state.records import RecordState, RequestRecord, dump_record, load_record, record_key


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of screening a new request: a reservation, or the refusal and its result status."""

    reservation: Reservation | None
    error: ErrorInfo | None = None
    status: ResultStatus = "rejected"


class Ledger:
    """Request records (and, through :class:`streams.state.limits_ledger.LimitsLedger`, limit state) in Faust tables."""

    def __init__(self, records: Any, limits: Any | None = None, expiry: RecordExpiry | None = None) -> None:
        self._records = records
        self._limits = limits
        self._expiry = expiry

    def record(self, request: LLMRequest) -> RequestRecord | None:
        """The ledger's record of ``request``, if any."""
        value = self._records.get(record_key(request.tenant, request.id))
        return load_record(value) if value else None

    def admit(
        self,
        request: LLMRequest,
        offset: int,
        precheck: ErrorInfo | None,
        now: float,
        *,
        partition: int = -1,
        plan: RoutePlan | None = None,
    ) -> Admission:
        """Screen a first-seen request: refuse it with ``precheck``, or apply limits and reserve ``plan``'s worst
        case (``plan`` is required then, when limits are kept)."""
        if precheck is not None:
            status: ResultStatus = "error" if precheck.code == ErrorCode.DEADLINE_EXCEEDED else "rejected"
            admission = Admission(reservation=None, error=precheck, status=status)
        elif self._limits is not None:
            if plan is None:
                raise ValueError("admitting against limits needs the request's route plan")
            admission = self._limits.admit(request, now, plan)
        else:
            admission = Admission(reservation=Reservation(at=now))
        if admission.error is not None:
            self._write(
                request,
                RequestRecord(
                    "rejected", offset, now, error=admission.error, status=admission.status, partition=partition
                ),
            )
        else:
            reserved = RequestRecord("reserved", offset, now, reservation=admission.reservation, partition=partition)
            self._write(request, reserved)
        return admission

    def apply_settlement(
        self,
        settlement: Settlement,
        record: RequestRecord | None,
        usd: float,
        tokens: int,
        *,
        state: RecordState = "settled",
    ) -> list[BudgetAlert]:
        """Release the reservation, charge the actual usage, and move the record to ``state``; returns the budget
        alerts the charge raised (to send to the alerts topic).

        ``settled`` when the result is still to be delivered (the settle-topic path), ``done`` when it already was
        (settlement in place): one write either way.
        """
        now = time.time()
        alerts: list[BudgetAlert] = []
        if self._limits is not None and record is not None and record.reservation is not None:
            alerts = self._limits.settle(settlement.request, record.reservation, tokens=tokens, usd=usd, now=now)
        self.mark(settlement.request, record, state)
        return alerts

    def alerts_delivered(self, keys: set[str], *, delivered: bool = True) -> None:
        """Alerts of the limit ``keys`` were delivered (or, ``delivered=False``, could not be sent)."""
        if self._limits is not None:
            (self._limits.alerts_delivered if delivered else self._limits.alerts_failed)(keys)

    def mark(self, request: LLMRequest, record: RequestRecord | None, state: RecordState) -> None:
        """Move a request's record to ``state`` (after its result was delivered); final records expire later."""
        if record is None:
            return
        moved = record.moved(state)
        self._write(request, moved)
        if moved.final and self._expiry is not None:
            self._expiry.schedule(moved.partition, record_key(request.tenant, request.id), moved.ts)

    def expire(self, partition: int, now: float) -> int:
        """Delete ``partition``'s finished records past retention; call from an event of that partition."""
        if self._expiry is None:
            return 0
        if self._expiry.needs_seed(partition):
            self._expiry.seed(partition, self._finished_in(partition))
        removed = 0
        for key in self._expiry.due(partition, now):
            value = self._records.get(key)
            if value and load_record(value).final:
                del self._records[key]
                removed += 1
        return removed

    def _finished_in(self, partition: int) -> list[tuple[str, float]]:
        found = []
        for key, value in list(self._records.items()):
            record = load_record(value) if value else None
            if record is not None and record.partition == partition and record.final:
                found.append((key, record.ts))
        return found

    def _write(self, request: LLMRequest, record: RequestRecord) -> None:
        self._records[record_key(request.tenant, request.id)] = dump_record(record)
