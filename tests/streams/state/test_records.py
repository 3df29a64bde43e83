"""Ledger records survive the table's JSON round trip, and their keys live in the tenant's partition."""

from __future__ import annotations

import orjson

from schemas.codes import ErrorCode
from schemas.internal import Reservation
from schemas.result import ErrorInfo
from streams.state.records import FINISHED_STATES, REJECTED_STATES, RequestRecord, dump_record, load_record, record_key


def round_trip(record: RequestRecord) -> RequestRecord:
    """Through JSON bytes, as the table stores it."""
    value = dump_record(record)
    assert isinstance(value, bytes) and orjson.loads(value)["s"] == record.state
    return load_record(value)


def test_a_reserved_record_round_trips_with_its_reservation() -> None:
    record = RequestRecord(
        "reserved", 17, 1_700_000_000.25, reservation=Reservation(input_tokens=12, output_tokens=64, usd=0.0003, at=5.0)
    )
    back = round_trip(record)
    assert back == record
    assert back.reservation is not None and back.reservation.tokens == 76
    assert back.error is None and back.status is None


def test_a_rejected_record_round_trips_with_its_error_and_status() -> None:
    error = ErrorInfo(
        code=ErrorCode.RATE_LIMITED, message="slow down", retry_after_ms=250, limit="user.requests_per_window"
    )
    record = RequestRecord("rejected", 3, 2.0, error=error, status="rejected")
    back = round_trip(record)
    assert back == record
    assert back.error is not None and back.error.code is ErrorCode.RATE_LIMITED
    assert back.reservation is None


def test_moved_changes_only_the_state() -> None:
    record = RequestRecord("reserved", 9, 1.0, reservation=Reservation(usd=0.5))
    moved = record.moved("settled")
    assert moved.state == "settled" and record.state == "reserved"
    assert moved == RequestRecord("settled", 9, 1.0, reservation=Reservation(usd=0.5))


def test_state_sets_do_not_overlap() -> None:
    assert {"settled", "done"} == FINISHED_STATES and {"rejected", "rejected_done"} == REJECTED_STATES
    assert not FINISHED_STATES & REJECTED_STATES


def test_record_key_puts_the_tenant_first() -> None:
    assert record_key("acme", "req-1") == "acme|req-1"
    assert record_key("acme", "req-1") != record_key("globex", "req-1")
