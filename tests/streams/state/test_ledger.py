"""The ledger's synchronous steps on plain dicts standing in for the Faust tables (they only ``get`` and assign)."""

from __future__ import annotations

import time
from typing import Any, Literal

import pytest

from agents.route import choose_route
from gateway.limits.policy import Limits, LimitsConfig, TierPolicy
from gateway.limits.state import UsageState
from gateway.settings import Settings, load_settings
from schemas.codes import ErrorCode
from schemas.request import LLMRequest
from schemas.result import ErrorInfo
from streams.state.ledger import Admission, Ledger
from streams.state.limits_ledger import LimitsLedger, user_key
from streams.state.records import RequestRecord, load_record, record_key
from tests.support.factories import make_request, make_settlement

# Settlement charges the day current at settlement (time.time()), so admissions happen "now" too.
NOW = time.time()
TINY = LimitsConfig(
    tiers={
        "tiny": TierPolicy(
            tenant=Limits(requests_per_window=100, usd_per_day=1.0),
            user_default=Limits(requests_per_window=2, tokens_per_window=10_000),
        )
    },
    default_tier="tiny",
)

Table = dict[str, Any]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(limits=TINY)


class Books:
    """A ledger over two dict tables."""

    def __init__(self, settings: Settings) -> None:
        self.records: Table = {}
        self.usage: Table = {}
        self.settings = settings
        self.ledger = Ledger(self.records, LimitsLedger(self.usage, settings))

    def admit(self, request: LLMRequest, offset: int, precheck: ErrorInfo | None, now: float) -> Admission:
        """Admit as screening does: with the route plan decided for the request."""
        plan = choose_route(request, self.settings)
        if isinstance(plan, ErrorInfo):
            return self.ledger.admit(request, offset, plan, now)
        return self.ledger.admit(request, offset, precheck, now, plan=plan)

    def usage_of(self, key: str) -> UsageState:
        return UsageState.from_dict(self.usage[key])

    def stored(self, request: LLMRequest) -> RequestRecord:
        return load_record(self.records[record_key(request.tenant, request.id)])


def hello(**fields: Any) -> LLMRequest:
    """8 prompt tokens (3 primer + 3 framing + 2 text, o200k and cl100k alike), 100 output tokens allowed; 9 as
    estimated for Claude (its text counted x1.2, rounded up)."""
    return make_request("hello world", max_tokens=100, **fields)


def test_admission_reserves_the_worst_case_and_writes_a_reserved_record(settings: Settings) -> None:
    books = Books(settings)
    request = hello()
    admission = books.admit(request, 7, None, NOW)
    assert admission.error is None and admission.reservation is not None
    reservation = admission.reservation
    # The chain gpt-4o-mini -> claude-3-5-haiku: the larger count (Claude's conservative estimate) is reserved,
    # priced on the dearest model: the prompt as cache writes ($1.00 per Mtok, the dearest input kind), output $4.00.
    assert (reservation.input_tokens, reservation.output_tokens) == (9, 100)
    assert reservation.usd == pytest.approx((9 * 1.00 + 100 * 4.00) / 1e6, abs=1e-12)
    assert reservation.at == NOW
    record = books.stored(request)
    assert record.state == "reserved" and record.offset == 7 and record.reservation == reservation
    assert books.ledger.record(request) == record
    for key in (request.tenant, user_key(request.tenant, request.user)):
        state = books.usage_of(key)
        assert (state.requests, state.inflight, state.reserved_tokens) == (1, 1, 109)
        assert state.reserved_usd == reservation.usd and state.day_usd == 0.0


def test_settlement_releases_the_reservation_and_charges_the_actual(settings: Settings) -> None:
    books = Books(settings)
    request = hello()
    books.admit(request, 7, None, NOW)
    record = books.ledger.record(request)
    books.ledger.apply_settlement(make_settlement(request), record, usd=0.00012, tokens=30)
    assert books.stored(request).state == "settled"
    for key in (request.tenant, user_key(request.tenant, request.user)):
        state = books.usage_of(key)
        assert (state.inflight, state.reserved_tokens, state.reserved_usd) == (0, 0, 0.0)
        assert state.tokens == 30
        assert state.day_usd == 0.00012 and state.month_usd == 0.00012


def test_a_limit_refusal_writes_a_rejected_record_and_leaves_usage_untouched(settings: Settings) -> None:
    books = Books(settings)
    for _ in range(2):  # the user's limit is 2 requests per window
        assert books.admit(hello(), 1, None, NOW).error is None
    usage_before = {key: dict(value) for key, value in books.usage.items()}
    third = hello()
    admission = books.admit(third, 3, None, NOW)
    assert admission.reservation is None and admission.status == "rejected"
    assert admission.error is not None and admission.error.code is ErrorCode.RATE_LIMITED
    assert admission.error.limit == "user.requests_per_window"
    assert admission.error.retry_after_ms is not None and 0 < admission.error.retry_after_ms <= 60_000
    record = books.stored(third)
    assert record.state == "rejected" and record.status == "rejected" and record.error == admission.error
    assert books.usage == usage_before


def test_a_budget_refusal_says_budget_exhausted() -> None:
    budget = LimitsConfig(tiers={"cheap": TierPolicy(tenant=Limits(usd_per_day=0.001))}, default_tier="cheap")
    books = Books(load_settings(limits=budget))
    # gpt-4o's chain includes claude-sonnet-4: 1,000 output tokens at $15/Mtok is $0.015 > $0.001.
    admission = books.admit(make_request("hi", model="gpt-4o", max_tokens=1_000), 1, None, NOW)
    assert admission.error is not None and admission.error.code is ErrorCode.BUDGET_EXHAUSTED
    assert admission.error.limit == "tenant.usd_per_day" and "tenant.usd_per_day" in admission.error.message
    assert admission.error.retry_after_ms is None  # it can never fit
    assert books.usage == {}


@pytest.mark.parametrize(
    ("code", "status"),
    [(ErrorCode.PAYLOAD_TOO_LARGE, "rejected"), (ErrorCode.DEADLINE_EXCEEDED, "error")],
)
def test_a_precheck_refusal_is_recorded_with_its_status_and_reserves_nothing(
    settings: Settings, code: ErrorCode, status: str
) -> None:
    books = Books(settings)
    request = hello()
    precheck = ErrorInfo(code=code, message="no")
    admission = books.admit(request, 4, precheck, NOW)
    assert admission.reservation is None and admission.error == precheck and admission.status == status
    record = books.stored(request)
    assert record.state == "rejected" and record.status == status and record.error == precheck
    assert books.usage == {}


def test_an_unknown_model_is_refused_with_model_not_found(settings: Settings) -> None:
    books = Books(settings)
    request = hello(model="gpt-17")
    admission = books.admit(request, 2, None, NOW)
    assert admission.error is not None and admission.error.code is ErrorCode.MODEL_NOT_FOUND
    assert admission.status == "rejected"
    assert books.stored(request).state == "rejected"
    assert books.usage == {}


def test_without_limits_admission_only_records_a_timestamped_reservation() -> None:
    records: Table = {}
    request = hello()
    admission = Ledger(records).admit(request, 0, None, NOW)
    assert admission.reservation is not None and admission.reservation.tokens == 0
    assert admission.reservation.at == NOW
    assert load_record(records[record_key(request.tenant, request.id)]).state == "reserved"


def test_mark_moves_a_record_and_ignores_a_missing_one(settings: Settings) -> None:
    books = Books(settings)
    request = hello()
    books.admit(request, 1, None, NOW)
    books.ledger.mark(request, books.ledger.record(request), "done")
    assert books.stored(request).state == "done"
    other = hello()
    books.ledger.mark(other, None, "done")
    assert books.ledger.record(other) is None


def test_settling_without_a_record_changes_nothing(settings: Settings) -> None:
    books = Books(settings)
    request = hello()
    books.ledger.apply_settlement(make_settlement(request), None, usd=1.0, tokens=10)
    assert books.records == {} and books.usage == {}


def test_tenants_and_users_have_separate_usage_keys(settings: Settings) -> None:
    books = Books(settings)
    books.admit(hello(tenant="acme", user="alice"), 1, None, NOW)
    books.admit(hello(tenant="globex", user="alice"), 1, None, NOW)
    assert set(books.usage) == {"acme", "acme|alice", "globex", "globex|alice"}


def test_finished_records_expire_from_their_partition_and_open_ones_stay() -> None:
    from streams.state.record_expiry import RecordExpiry

    records: dict[str, Any] = {}
    ledger = Ledger(records, None, RecordExpiry(retention_s=60))
    done, open_ = hello(), hello()
    ledger.admit(done, offset=1, precheck=None, now=1000.0, partition=2)
    ledger.admit(open_, offset=2, precheck=None, now=1000.0, partition=2)
    ledger.mark(done, ledger.record(done), "done")
    assert ledger.expire(2, now=1059.0) == 0
    assert ledger.expire(2, now=1061.0) == 1
    assert ledger.record(done) is None and ledger.record(open_) is not None


def test_a_restarted_ledger_finds_old_finished_records_and_expires_them() -> None:
    from streams.state.record_expiry import RecordExpiry

    records: dict[str, Any] = {}
    first = Ledger(records, None, RecordExpiry(retention_s=60))
    request = hello()
    first.admit(request, offset=1, precheck=None, now=1000.0, partition=5)
    first.mark(request, first.record(request), "done")
    restarted = Ledger(records, None, RecordExpiry(retention_s=60))  # memory lost, table recovered
    assert restarted.expire(4, now=2000.0) == 0  # another partition's records are not touched
    assert restarted.expire(5, now=2000.0) == 1
    assert restarted.record(request) is None


def test_admitting_against_limits_takes_the_route_decided_at_screening(settings: Settings) -> None:
    books = Books(settings)
    with pytest.raises(ValueError, match="route plan"):
        books.ledger.admit(hello(), 1, None, NOW)  # the ledger never decides a route itself
    cascade = load_settings(limits=TINY, routing={"tasks": {"extract": {"cascade": ["gpt-4o-mini", "gpt-4o"]}}})
    request = hello(task="extract")
    admission = Books(cascade).admit(request, 1, None, NOW)
    assert admission.reservation is not None and admission.reservation.output_tokens == 200  # both steps


def _with_unpriced_model(policy: Literal["reject", "reserve"]) -> Settings:
    from gateway.catalog import DEFAULT_MODELS, ModelSpec
    from gateway.pricing import PricingSettings

    unpriced = ModelSpec(provider="openai", upstream="ft:private", context_window=8_000)
    return load_settings(
        limits=TINY,
        models={**DEFAULT_MODELS, "private": unpriced},
        pricing=PricingSettings(unknown_policy=policy, unknown_usd_per_mtok=50.0),
    )


def test_an_unpriced_model_under_a_usd_budget_is_refused_by_the_reject_policy() -> None:
    books = Books(_with_unpriced_model("reject"))
    admission = books.admit(hello(model="private"), 11, None, NOW)
    assert admission.reservation is None and admission.error is not None
    assert admission.error.code is ErrorCode.PRICE_UNKNOWN and "ft:private" in admission.error.message


def test_an_unpriced_model_is_reserved_at_the_configured_rate_by_the_reserve_policy() -> None:
    books = Books(_with_unpriced_model("reserve"))
    admission = books.admit(hello(model="private"), 12, None, NOW)
    assert admission.error is None and admission.reservation is not None
    # 8 prompt + 100 output tokens at $50 per Mtok (never $0).
    assert admission.reservation.usd == pytest.approx(108 * 50.0 / 1e6, abs=1e-12)


def test_a_usage_value_replaced_behind_the_ledger_is_read_again(settings: Settings) -> None:
    """The ledger keeps the states it decoded, valid only while the table holds that very value: a value written by
    someone else (a changelog recovery) or deleted is decoded afresh."""
    books = Books(settings)
    assert books.admit(hello(tenant="acme", user="alice"), 1, None, NOW).error is None
    full = UsageState.from_dict(books.usage["acme|alice"]).replace(requests=2)  # alice's limit is 2 per window
    books.usage["acme|alice"] = full.to_dict()
    refused = books.admit(hello(tenant="acme", user="alice"), 2, None, NOW)
    assert refused.error is not None and refused.error.code == ErrorCode.RATE_LIMITED
    del books.usage["acme|alice"]
    assert books.admit(hello(tenant="acme", user="alice"), 3, None, NOW).error is None
    assert books.usage_of("acme|alice").requests == 1 and books.usage_of("acme").requests == 2


def test_admit_and_settle_leave_the_same_table_as_a_ledger_that_decodes_every_read(settings: Settings) -> None:
    books, fresh = Books(settings), Books(settings)
    requests = [hello(tenant=f"t{n % 3}", user=f"u{n % 2}") for n in range(12)]
    for offset, request in enumerate(requests):
        for ledger in (books, fresh):
            ledger.admit(request, offset, None, NOW)
            if ledger is fresh:
                ledger.ledger._limits._decoded.clear()  # type: ignore[union-attr]
    for request in requests:
        for ledger in (books, fresh):
            record = ledger.ledger.record(request)
            settlement = make_settlement(request, input_tokens=5, output_tokens=7)
            ledger.ledger.apply_settlement(settlement, record, usd=0.001, tokens=12, state="done")
            if ledger is fresh:
                ledger.ledger._limits._decoded.clear()  # type: ignore[union-attr]
    assert books.usage == fresh.usage
