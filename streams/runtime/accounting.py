"""The account stage's side effects: apply a settlement to the tables, emit the result and usage event, ack.

A request is settled where it was screened while that worker still owns the tenant's partition ("in place"),
otherwise by the partition's owner from ``streamgate.settle``. Tables are only ever written while this worker owns
the partition and is not rebalancing: during a rebalance Faust recovers tables from their changelogs, and a write
computed from a half-recovered value would leave stale counts at the end of the changelog.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import faust
from faust.types import TP

from agents import account as account_stage
from agents.reply_to import reply_topic_for
from gateway.settings import Settings
from schemas.alert import BudgetAlert
from schemas.internal import Settlement
from streams.runtime import metrics
from streams.runtime.delivery import after_delivery, send
from streams.runtime.topics import Topics
from streams.state.ledger import Ledger
from streams.state.ledger_plan import SettlePlan, plan_settle
from streams.state.limits_ledger import user_key
from streams.state.records import RecordState, record_key

Release = Callable[..., None]


class Accountant:
    """Settles requests for one worker; ``emitting`` holds the ids whose outputs are on their way."""

    def __init__(self, app: faust.App, settings: Settings, topics: Topics, ledger: Ledger) -> None:
        self._app = app
        self._settings = settings
        self._topics = topics
        self._ledger = ledger
        self.emitting: set[str] = set()
        self._hand_overs: set[asyncio.Future[None]] = set()
        self._owned: frozenset[TP] = frozenset()
        self._owned_in: int | None = None  # the rebalance count ``_owned`` was read in

    def owns(self, event: Any) -> bool:
        """Whether this worker owns ``event``'s partition (so its tenants' table partition) and is not rebalancing."""
        app = self._app
        if app.rebalancing:
            return False
        # The assignment changes only in a rebalance, and Faust counts a rebalance before the assignment changes:
        # reading the count first, a set built from a newer assignment is rebuilt on the next call, never kept.
        # (Faust builds a fresh set of every assigned topic-partition per call: ~3 % of a loaded worker's CPU.)
        count = app.rebalancing_count
        if self._owned_in != count:
            self._owned = frozenset(app.assignor.assigned_actives())
            self._owned_in = count
        return TP(event.message.topic, event.message.partition) in self._owned

    async def settle(self, settlement: Settlement, event: Any, release: Release, *, in_place: bool) -> None:
        """Settle a request from ``event`` (its admit event when ``in_place``, else its settle event).

        In place, the usage is applied only after the outputs are delivered, in the same write that marks the
        record done: a crash before that leaves the record ``reserved`` and the replayed admit event settles it
        again (the worst-case reservation stays held meanwhile: over-counted for a moment, never under-counted).
        From the settle topic the usage is applied first (``settled``) and a replayed settlement only re-emits.
        ``release`` runs once the request no longer needs guarding against a duplicate in this worker.
        """
        self._ledger.expire(event.message.partition, time.time())
        request = settlement.request
        key = record_key(request.tenant, request.id)
        record = self._ledger.record(request)
        plan = plan_settle(record, settlement.reemit, key in self.emitting, delivered=settlement.delivered)
        if plan is SettlePlan.SKIP:
            release()
            event.ack()
            return
        charge = account_stage.charge_of(settlement, self._settings)
        tokens = charge.input_tokens + charge.output_tokens
        if plan is SettlePlan.APPLY_ONLY:
            alerts = self._ledger.apply_settlement(
                settlement, record, usd=charge.budget_usd, tokens=tokens, state="done"
            )
            self._send_alerts(alerts, event)
            release()
            event.ack()
            return
        if plan is SettlePlan.APPLY_AND_EMIT and not in_place:
            alerts = self._ledger.apply_settlement(settlement, record, usd=charge.budget_usd, tokens=tokens)
            self._send_alerts(alerts, event)
        result, usage = account_stage.build_outputs(settlement, charge, int(time.time() * 1000))
        account_stage.log_settled(settlement, charge, self._settings)
        reply = self._topics.reply(reply_topic_for(request.reply_to, self._settings))
        futures = [await send(reply, request.id.encode(), result.model_dump_json().encode())]
        if plan is not SettlePlan.EMIT_RESULT_ONLY:
            futures.append(await send(self._topics.usage, request.tenant.encode(), usage.model_dump_json().encode()))
            attempts = [(a.provider, a.model, a.outcome) for a in settlement.attempt_log]
            metrics.observe_usage(usage, attempts, self._settings.metrics.tenants)
        self.emitting.add(key)
        rejected = settlement.status == "rejected" or (record is not None and record.state.startswith("rejected"))
        final: RecordState = "rejected_done" if rejected else "done"
        apply_after_delivery = plan is SettlePlan.APPLY_AND_EMIT and in_place

        def delivered() -> None:
            self.emitting.discard(key)
            if not self.owns(event):
                if apply_after_delivery:  # the new owner applies it; our admit event is acked once it has it
                    self._hand_over(settlement, event, release)
                    return
                release()  # a final mark is only a replay guard: better a duplicate answer than a stale write
                event.ack()
                return
            current = self._ledger.record(request)
            if apply_after_delivery:
                self._send_alerts(
                    self._ledger.apply_settlement(
                        settlement, current, usd=charge.budget_usd, tokens=tokens, state=final
                    ),
                    event,
                )
            elif plan is not SettlePlan.EMIT_RESULT_ONLY:
                self._ledger.mark(request, current, final)
            release()
            event.ack()

        def failed(_: BaseException) -> None:
            self.emitting.discard(key)
            release()

        after_delivery(futures, delivered, what=f"result of {request.id}", on_failed=failed)

    def _send_alerts(self, alerts: list[BudgetAlert], event: Any) -> None:
        """Send budget alerts to the alerts topic; once delivered, clear their keys' pending mark (in a write from
        ``event``'s partition, while it is still owned). Until then a key's alerts stay pending in its state, so a
        worker that stops first leaves them to be sent again, not lost."""
        if not alerts:
            return
        keys = {alert.tenant if alert.user is None else user_key(alert.tenant, alert.user) for alert in alerts}

        async def send_all() -> None:
            futures = [
                await send(self._topics.alerts, alert.tenant.encode(), alert.model_dump_json().encode())
                for alert in alerts
            ]

            def done() -> None:
                for alert in alerts:
                    metrics.observe_alert(alert, self._settings.metrics.tenants)
                if self.owns(event):
                    self._ledger.alerts_delivered(keys)
                else:  # the partition moved: its new owner sends them again (a repeat, same alert_id)
                    self._ledger.alerts_delivered(keys, delivered=False)

            after_delivery(
                futures,
                done,
                what=f"{len(alerts)} budget alert(s)",
                on_failed=lambda _: self._ledger.alerts_delivered(keys, delivered=False),
            )

        task = asyncio.ensure_future(send_all())  # in this context: the table writes go to event's partition
        self._hand_overs.add(task)
        task.add_done_callback(self._hand_overs.discard)

    def _hand_over(self, settlement: Settlement, event: Any, release: Release) -> None:
        """Send a delivered settlement to the partition's new owner (which only applies it), then ack."""
        handed = settlement.model_copy(update={"delivered": True})

        async def hand_over() -> None:
            value = handed.model_dump_json().encode()
            future = await send(self._topics.settle, settlement.request.tenant.encode(), value)

            def done() -> None:
                release()
                event.ack()

            after_delivery([future], done, what=f"hand-over of {settlement.request.id}", on_failed=release)

        task = asyncio.ensure_future(hand_over())
        self._hand_overs.add(task)
        task.add_done_callback(self._hand_overs.discard)
