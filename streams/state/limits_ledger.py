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
from gateway.limits.alerts import Crossing, crossings, pending_crossings
from gateway.limits.decide import Reservation as LimitReservation
from gateway.limits.decide import admit, settle
from gateway.limits.policy import Limits, effective_limits
from gateway.limits.state import UsageState
from gateway.limits.unpriced import unpriced_refusal
from gateway.settings import Settings
from schemas.alert import BudgetAlert, alert_id
from schemas.internal import Reservation
from schemas.request import LLMRequest
from schemas.result import ErrorInfo
from streams.state.ledger import Admission


def _load(doc: dict[str, Any] | None) -> UsageState:
    return UsageState.from_dict(doc) if doc else UsageState()


def _dump(state: UsageState) -> dict[str, Any]:
    return state.to_dict()


DECODED_KEYS = 16_384
"""How many keys' decoded states :class:`LimitsLedger` keeps (~250 bytes each); a tenant and its active users."""


def user_key(tenant: str, user: str) -> str:
    """The usage-table key of a user."""
    return f"{tenant}|{user}"


class LimitsLedger:
    """Admission against limits with a worst-case reservation, and settlement of the actual usage."""

    def __init__(self, table: Any, settings: Settings) -> None:
        self._table = table
        self._settings = settings
        self.alerting: set[str] = set()  # keys whose alerts this worker is sending (not re-sent meanwhile)
        # key -> (the table value, its UsageState): valid while the table holds that very object. Every request
        # reads and writes its tenant's and user's state twice (admit, settle); decoding a value is ~6 us.
        self._decoded: dict[str, tuple[dict[str, Any], UsageState]] = {}

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
            self._state(request.tenant),
            self._state(ukey),
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
        self._store(request.tenant, decision.tenant_state)
        self._store(ukey, decision.user_state)
        reserved = estimate.reservation
        return Admission(
            reservation=Reservation(
                input_tokens=estimate.input_tokens,
                output_tokens=estimate.max_output_tokens,
                usd=reserved.usd,
                at=now,
            )
        )

    def settle(
        self, request: LLMRequest, reservation: Reservation, *, tokens: int, usd: float, now: float
    ) -> list[BudgetAlert]:
        """Replace the reservation with the actual usage (zero for cache hits and failures).

        Returns the budget alerts to send: shares crossed for the first time in their period (recorded in the same
        write), and those of a key whose earlier alerts were never confirmed delivered (:meth:`alerts_delivered`).
        """
        ukey = user_key(request.tenant, request.user)
        tenant_state, user_state = settle(
            self._state(request.tenant),
            self._state(ukey),
            LimitReservation(tokens=reservation.tokens, usd=reservation.usd),
            tokens,
            usd,
            now,
        )
        tenant_limits, user_limits = effective_limits(self._settings.limits, request.tenant, request.user)
        alerts: list[BudgetAlert] = []
        scopes = (("tenant", request.tenant, tenant_state, tenant_limits), ("user", ukey, user_state, user_limits))
        for scope, key, state, limits in scopes:
            state, found = self._crossings(key, state, limits)
            alerts += [_alert(scope, request, key, crossing, now) for crossing in found]
            self._store(key, state)
        return alerts

    def _crossings(self, key: str, state: UsageState, limits: Limits) -> tuple[UsageState, list[Crossing]]:
        state, found = crossings(state, limits, self._settings.limits.alert_shares)
        if not found and key not in self.alerting:
            found = pending_crossings(state, limits)  # left pending by a worker that stopped before delivery
        if found:
            self.alerting.add(key)
        return state, found

    def alerts_delivered(self, keys: set[str]) -> None:
        """The alerts of ``keys`` are on the broker: clear their pending mark (from an event of their partition)."""
        for key in keys:
            self.alerting.discard(key)
            state = self._state(key)
            if state.alert_pending:
                self._store(key, state.replace(alert_pending=False))

    def alerts_failed(self, keys: set[str]) -> None:
        """Sending the alerts of ``keys`` failed: they stay pending and go out again with the key's next settlement."""
        self.alerting -= keys

    def _state(self, key: str) -> UsageState:
        """The usage state of ``key``: decoded again only when the table holds another value than the one last
        read or written here (a recovery from the changelog, a store that copies values, a delete)."""
        doc = self._table.get(key)
        known = self._decoded.get(key)
        if known is not None and known[0] is doc:
            return known[1]
        state = _load(doc)
        if doc is not None:
            self._remember(key, doc, state)
        return state

    def _store(self, key: str, state: UsageState) -> None:
        doc = _dump(state)
        self._table[key] = doc
        self._remember(key, doc, state)

    def _remember(self, key: str, doc: dict[str, Any], state: UsageState) -> None:
        decoded = self._decoded
        decoded.pop(key, None)  # re-inserted as the newest
        decoded[key] = (doc, state)
        if len(decoded) > DECODED_KEYS:
            del decoded[next(iter(decoded))]


def _alert(scope: str, request: LLMRequest, key: str, crossing: Crossing, now: float) -> BudgetAlert:
    return BudgetAlert(
        alert_id=alert_id(key, crossing.limit, crossing.period, crossing.share),
        scope="tenant" if scope == "tenant" else "user",
        tenant=request.tenant,
        user=request.user if scope == "user" else None,
        limit=crossing.limit,
        period=crossing.period,
        share=crossing.share,
        spent_usd=crossing.spent_usd,
        limit_usd=crossing.limit_usd,
        ts_ms=int(now * 1000),
    )
