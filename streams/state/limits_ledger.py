"""Per-tenant and per-user limits and budgets in a Faust table, applied with reservations.

Keys: ``tenant`` and ``tenant|user`` (the ``|`` cannot appear in a tenant name), both written from the tenant's
partition of ``streamgate.admit``/``streamgate.settle``. Values are :class:`gateway.limits.state.UsageState` as JSON
objects (~200 bytes): a single value per key holding its current window, reservations and spend per period, because
Faust's windowed tables return the newest window on read and expire keys without a changelog delete.
"""

from __future__ import annotations

from typing import Any

from agents.job import RoutePlan
from agents.reserve import plan_estimate
from gateway.limits.decide import Reservation as LimitReservation
from gateway.limits.decide import admit, settle
from gateway.limits.policy import effective_limits
from gateway.limits.state import UsageState
from gateway.limits.unpriced import unpriced_refusal
from gateway.settings import Settings
from schemas.internal import Reservation
from schemas.request import LLMRequest
from schemas.result import ErrorInfo
from streams.state.ledger import Admission


def _load(doc: dict[str, Any] | None) -> UsageState:
    return UsageState.from_dict(doc) if doc else UsageState()


def _dump(state: UsageState) -> dict[str, Any]:
    return state.to_dict()


def user_key(tenant: str, user: str) -> str:
    """The usage-table key of a user."""
    return f"{tenant}|{user}"


class LimitsLedger:
    """Admission against limits with a worst-case reservation, and settlement of the actual usage."""

    def __init__(self, table: Any, settings: Settings) -> None:
        self._table = table
        self._settings = settings

    def admit(self, request: LLMRequest, now: float, plan: RoutePlan) -> Admission:
        """Reserve the worst case of serving ``request`` over ``plan``, or refuse it (refusals change no state)."""
        estimate = plan_estimate(request, plan, self._settings)
        specs = [self._settings.models[link.model] for step in plan.steps for link in step.chain]
        tenant_limits, user_limits = effective_limits(self._settings.limits, request.tenant, request.user)
        refusal = unpriced_refusal(specs, (tenant_limits, user_limits), self._settings.pricing)
        if refusal is not None:
            return Admission(reservation=None, error=refusal, status="rejected")
        ukey = user_key(request.tenant, request.user)
        decision = admit(
            _load(self._table.get(request.tenant)),
            _load(self._table.get(ukey)),
            tenant_limits,
            user_limits,
            estimate,
            now,
        )
        if not decision.admitted:
            assert decision.code is not None
            error = ErrorInfo(
                code=decision.code,
                message=f"limit {decision.limit} would be exceeded",
                retry_after_ms=decision.retry_after_ms,
                limit=decision.limit,
            )
            return Admission(reservation=None, error=error, status="rejected")
        self._table[request.tenant] = _dump(decision.tenant_state)
        self._table[ukey] = _dump(decision.user_state)
        reserved = estimate.reservation
        return Admission(
            reservation=Reservation(
                input_tokens=estimate.input_tokens,
                output_tokens=estimate.max_output_tokens,
                usd=reserved.usd,
                at=now,
            )
        )

    def settle(self, request: LLMRequest, reservation: Reservation, *, tokens: int, usd: float, now: float) -> None:
        """Replace the reservation with the actual usage (zero for cache hits and failures)."""
        ukey = user_key(request.tenant, request.user)
        tenant_state, user_state = settle(
            _load(self._table.get(request.tenant)),
            _load(self._table.get(ukey)),
            LimitReservation(tokens=reservation.tokens, usd=reservation.usd),
            tokens,
            usd,
            now,
        )
        self._table[request.tenant] = _dump(tenant_state)
        self._table[ukey] = _dump(user_state)
