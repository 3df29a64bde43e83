"""The checks every chaos scenario ends with, and the figures it reports.

After a run: every id answered; the simulator's paid (successful) calls per request id equal exactly one for each
id answered ``ok`` (the cache is bypassed, so each needed one) and zero for the others, except for requests in
flight when a worker was SIGKILLed (an answer the provider sent but the worker never stored is paid again: the
number of such repeats is bounded by the requests in flight at the kills, and reported); each tenant's and user's
budget state (the usage table's changelog, read by ``streamgate limits``) equals the sum of the settled costs with
nothing left reserved; and the usage topic, deduplicated by ``event_id``, has one event per id whose totals equal
the results'.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from agents.job import RoutePlan
from agents.reserve import plan_estimate
from agents.route import choose_route
from gateway.limits.periods import round_usd
from gateway.limits.policy import effective_limits
from gateway.limits.snapshot import Snapshot, snapshot
from gateway.limits.state import decode
from gateway.settings import Settings
from schemas.request import LLMRequest
from streams.devtools.client import read_topic
from streams.devtools.dev import DevStack
from streams.state.limits_ledger import user_key
from tests.chaos.traffic import TENANTS, USERS, chaos_request
from tests.support.gateway import simulator_stats
from tests.support.kafka import Record, consume_until


@dataclass
class Figures:
    """What one scenario measured; printed at the end of the run (``tests/chaos/conftest.py``)."""

    scenario: str
    requests: int = 0
    answered: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    duplicate_results: int = 0
    duplicate_usage_events: int = 0
    paid_calls: int = 0
    needed_paid_calls: int = 0
    spent_usd: str = "0"
    budget_usd: str = "0"
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """One line of the summary table."""
        status = ",".join(f"{k}={v}" for k, v in sorted(self.statuses.items()))
        notes = " ".join(f"{k}={v}" for k, v in self.notes.items())
        return (
            f"{self.scenario:<22} {self.answered:>5}/{self.requests:<5} dup r/u {self.duplicate_results:>3}/"
            f"{self.duplicate_usage_events:<3} paid {self.paid_calls:>5}={self.needed_paid_calls:<5} "
            f"spent ${self.spent_usd} budget ${self.budget_usd} {self.seconds:6.1f}s [{status}] {notes}"
        )


def _usd(value: Any) -> Decimal:
    return Decimal(repr(value)) if value is not None else Decimal(0)


async def collect(stack: DevStack, topic: str, ids: set[str], field_name: str, timeout_s: float) -> list[Record]:
    """Records of ``topic`` until one names every id in ``ids`` (by ``field_name``), or what came by the timeout."""

    def done(records: list[Record]) -> bool:
        return ids <= {r.json().get(field_name) for r in records}

    return await consume_until(stack.bootstrap, topic, done, timeout_s, raise_on_timeout=False)


def _firsts(records: list[Record], wanted: set[str], id_field: str, by: str) -> tuple[dict[str, Any], int]:
    """The first document per ``by`` among records whose ``id_field`` is wanted, and how many repeats there were."""
    first: dict[str, dict[str, Any]] = {}
    count: Counter[str] = Counter()
    for record in records:
        doc = record.json()
        if doc.get(id_field) in wanted:
            count[doc[by]] += 1
            first.setdefault(doc[by], doc)
    return first, sum(n - 1 for n in count.values())


async def audit(stack: DevStack, figures: Figures, ids: list[str], *, timeout_s: float = 240.0) -> Figures:
    """Check a finished run (see the module docstring); fills ``figures`` and asserts the guarantees."""
    wanted = set(ids)
    topics = stack.settings.topics
    started = time.monotonic()
    results = await collect(stack, topics.results, wanted, "id", timeout_s)
    figures.notes["drain_s"] = round(time.monotonic() - started, 1)
    first, figures.duplicate_results = _firsts(results, wanted, "id", "id")
    figures.requests = len(ids)
    figures.answered = len(first)
    figures.statuses = dict(Counter(d["status"] if d["status"] == "ok" else d["error"]["code"] for d in first.values()))
    missing = sorted(wanted - set(first))
    figures.notes["missing"] = missing[:5]
    assert not missing, f"{len(missing)} ids never answered: {await where_lost(stack, missing[:10])}"
    # A repeated result must be the same answer (same event_id, same status and output).
    for record in results:
        doc = record.json()
        if doc.get("id") in wanted:
            original = first[doc["id"]]
            assert (doc["event_id"], doc["status"], doc["output"]) == (
                original["event_id"],
                original["status"],
                original["output"],
            )

    usage = await collect(stack, topics.usage, wanted, "request_id", 60.0)
    events, figures.duplicate_usage_events = _firsts(usage, wanted, "request_id", "event_id")
    by_request = {e["request_id"]: e for e in events.values()}
    assert set(by_request) == wanted, f"usage events missing for {sorted(wanted - set(by_request))[:5]}"
    for rid, doc in first.items():
        event = by_request[rid]
        assert (event["status"], event["cost_usd"]) == (doc["status"], doc["cost_usd"]), rid
        assert event["input_tokens"] == doc["usage"]["input_tokens"], rid
        assert event["output_tokens"] == doc["usage"]["output_tokens"], rid

    stats = simulator_stats(stack)
    paid = stats["ok_per_request_id"]
    needed = {rid for rid, doc in first.items() if doc["status"] == "ok"}
    figures.paid_calls = sum(paid.get(rid, 0) for rid in wanted)
    figures.needed_paid_calls = len(needed)
    twice = sorted(rid for rid in wanted if paid.get(rid, 0) > (1 if rid in needed else 0))
    unpaid = sorted(rid for rid in needed if paid.get(rid, 0) == 0)
    figures.notes["paid_twice"] = len(twice)
    # A kill between the provider's answer and the completion's store in Redis loses that answer: the replay pays
    # again. Only a request in flight at a kill can be exposed, so their number bounds the repeats (0 without kills).
    bound = int(figures.notes.get("in_flight_at_kills", 0))
    assert len(twice) <= bound, f"{len(twice)} ids paid more often than needed (bound {bound}), e.g. {twice[:5]}"
    assert all(paid[rid] <= 1 + int(figures.notes.get("kills", 0)) for rid in twice), twice
    assert not unpaid, f"{len(unpaid)} ok answers without a paid call, e.g. {unpaid[:5]}"

    spent = {t: Decimal(0) for t in TENANTS}
    spent_by_user: dict[tuple[str, str], Decimal] = {}
    for doc in events.values():
        spent[doc["tenant"]] += _usd(doc["cost_usd"])
        key = (doc["tenant"], doc["user"])
        spent_by_user[key] = spent_by_user.get(key, Decimal(0)) + _usd(doc["cost_usd"])
    figures.spent_usd = str(sum(spent.values(), Decimal(0)))
    budget = Decimal(0)
    views = await budget_views(stack)
    problems: list[str] = []
    for tenant in TENANTS:
        for user in USERS:
            mine = spent_by_user.get((tenant, user), Decimal(0))
            problems += _settled_problems(views[user_key(tenant, user)], mine, f"{tenant}/{user}")
        problems += _settled_problems(views[tenant], spent[tenant], tenant)
        admitted = sum(1 for e in events.values() if e["tenant"] == tenant)
        used = views[tenant]["limits"]["requests_per_window"]["used"]
        if used != admitted:
            problems.append(f"{tenant}: {used} requests counted, {admitted} admitted")
        budget += Decimal(repr(views[tenant]["limits"]["usd_per_day"]["used"]))
    figures.budget_usd = str(budget)
    figures.notes["budget_problems"] = problems
    kills = int(figures.notes.get("kills", 0))
    if kills == 0:
        assert not problems, f"budget state is not the sum of settled costs: {problems}"
    else:
        _within_torn_write_bound(figures, views, spent, spent_by_user, events, stack)
    return figures


async def budget_views(stack: DevStack) -> dict[str, Snapshot]:
    """What ``streamgate limits`` shows for every tenant and user of the stream, folded from the usage table's
    changelog in one read (the command does the same per key)."""
    latest: dict[str, bytes | None] = {}
    for record in await read_topic(stack.bootstrap, f"{stack.settings.app_id}-usage-changelog"):
        latest[json.loads(record.key or b'""')] = record.value
    views: dict[str, Snapshot] = {}
    now = time.time()
    for tenant in TENANTS:
        for user in USERS:
            tenant_limits, user_limits = effective_limits(stack.settings.limits, tenant, user)
            views[tenant] = snapshot(decode(latest.get(tenant)), tenant_limits, now)
            views[user_key(tenant, user)] = snapshot(decode(latest.get(user_key(tenant, user))), user_limits, now)
    return views


async def where_lost(stack: DevStack, ids: list[str]) -> dict[str, Any]:
    """For unanswered ids: where each request was seen (request and admit topics, with partition and offset) and
    every state its ledger record went through (the ``requests`` table's changelog)."""
    wanted = set(ids)
    seen: dict[str, Any] = {rid: {"requests": [], "admit": [], "ledger": []} for rid in ids}
    for kind, topic in (("requests", stack.settings.topics.requests), ("admit", stack.settings.topics.admit)):
        for record in await read_topic(stack.bootstrap, topic):
            rid = json.loads(record.value or b"{}").get("id")
            if rid in wanted:
                seen[rid][kind].append((record.partition, record.offset, record.timestamp))
    for record in await read_topic(stack.bootstrap, f"{stack.settings.app_id}-requests-changelog"):
        key = json.loads(record.key or b'""')
        rid = key.split("|", 1)[-1] if isinstance(key, str) else None
        if rid in wanted:
            state = _ledger_state(record.value)
            seen[rid]["ledger"].append((record.partition, record.offset, record.timestamp, state))
    return seen


def _ledger_state(value: bytes | None) -> str | None:
    """The state in a ``requests`` changelog value (``None`` for a tombstone), however the table encoded it."""
    if not value:
        return None
    try:
        doc: Any = json.loads(value)
        doc = json.loads(doc) if isinstance(doc, str) else doc
        return str(doc.get("s")) if isinstance(doc, dict) else repr(doc)[:40]
    except ValueError:
        return repr(value[:40])


def _within_torn_write_bound(
    figures: Figures,
    views: dict[str, Snapshot],
    spent: dict[str, Decimal],
    spent_by_user: dict[tuple[str, str], Decimal],
    events: dict[str, dict[str, Any]],
    stack: DevStack,
) -> None:
    """After SIGKILLs: the known torn-write fault (RELIABILITY.md, "Exact budgets"), at most once per kill per key.

    An admission or a settlement writes the usage table and the request ledger, two changelog topics; a kill between
    the two sends leaves one without the other. A torn admission is admitted again on replay (one request counted
    twice, one worst case left reserved); a torn settlement is applied again (its cost charged twice, its worst case
    released twice). Each is at most one request's worst case, and only ever more spend or reservation than real.
    """
    kills = int(figures.notes["kills"])
    worst = Decimal(repr(worst_case_usd(stack.settings)))
    leaked = overcharged = Decimal(0)
    recounted = 0
    for tenant in TENANTS:
        keys = [(tenant, views[tenant], spent[tenant])]
        for u in USERS:
            keys.append((f"{tenant}/{u}", views[user_key(tenant, u)], spent_by_user.get((tenant, u), Decimal(0))))
        for who, view, settled in keys:
            day = view["limits"]["usd_per_day"]
            reserved, over = Decimal(repr(day["reserved"])), Decimal(repr(day["used"])) - settled
            assert 0 <= reserved <= kills * worst and -Decimal("1e-10") <= over <= kills * worst, (who, day, settled)
            if who == tenant:
                leaked, overcharged = leaked + reserved, overcharged + max(over, Decimal(0))
        counted = views[tenant]["limits"]["requests_per_window"]["used"]
        admitted = sum(1 for e in events.values() if e["tenant"] == tenant)
        assert 0 <= counted - admitted <= kills, (tenant, counted, admitted)
        recounted += counted - admitted
    figures.notes.update(torn_recounted=recounted, torn_reserved_usd=str(leaked), torn_overcharged_usd=str(overcharged))


def worst_case_usd(settings: Settings) -> float:
    """The largest reservation of a stream request (the slow ones have the longest prompt)."""
    request = LLMRequest.model_validate(chaos_request("c00000000", 0))
    plan = choose_route(request, settings)
    assert isinstance(plan, RoutePlan)
    return plan_estimate(request, plan, settings).worst_case_usd


def _settled_problems(view: Snapshot, spent: Decimal, who: str) -> list[str]:
    """How the budget state of one key differs from the sum of its settled costs (to the ledger's 1e-10 USD grid)
    with nothing held: an empty list when it does not."""
    day = view["limits"]["usd_per_day"]
    problems = []
    if day["reserved"] != 0:
        problems.append(f"{who}: {day['reserved']} USD still reserved")
    if view["in_flight"] != 0:
        problems.append(f"{who}: {view['in_flight']} requests still in flight")
    if round_usd(day["used"]) != round_usd(float(spent)):
        problems.append(f"{who}: budget {day['used']} != settled {spent}")
    return problems


def dump(figures: Figures) -> str:
    """The figures as JSON (kept in the run's summary file)."""
    return json.dumps(figures.__dict__, default=str)
